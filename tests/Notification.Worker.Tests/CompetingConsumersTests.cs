namespace Notification.Worker.Tests;

/// <summary>N worker instances share one queue.</summary>
public sealed class CompetingConsumersTests(TestEnvironment environment) : IClassFixture<TestEnvironment>
{
    [Fact]
    public async Task TwoWorkers_OnOneQueue_EmailEachMessageOnce()
    {
        environment.Provider.Reset();
        environment.Provider.Accept(delay: TimeSpan.FromMilliseconds(20));
        await using var first = await environment.StartWorkerAsync(settings => settings.Consumers(concurrency: 1, prefetch: 1));
        await using var second = await environment.StartWorkerAsync(settings => settings.Consumers(concurrency: 1, prefetch: 1));
        var messageIds = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();

        foreach (var messageId in messageIds)
        {
            await first.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        }

        await Eventually.GetAsync(() => first.Events.CompletedTotal + second.Events.CompletedTotal, n => n == 20, "all messages consumed");
        foreach (var messageId in messageIds)
        {
            environment.Provider.RequestsFor(messageId).Should().ContainSingle();
            (first.Events.Completed(messageId) + second.Events.Completed(messageId)).Should().Be(1);
        }

        first.Events.CompletedTotal.Should().BePositive();
        second.Events.CompletedTotal.Should().BePositive();
    }
}
