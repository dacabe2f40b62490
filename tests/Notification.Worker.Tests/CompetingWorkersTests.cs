namespace Notification.Worker.Tests;

/// <summary>Several worker instances on one queue share the emails and never send one twice.</summary>
public sealed class CompetingWorkersTests(TestEnvironment environment) : IClassFixture<TestEnvironment>
{
    private const int Messages = 30;

    [Fact]
    public async Task TwoWorkersOnOneQueue_EmailEachMessageExactlyOnce_AndBothTakeAShare()
    {
        // Arrange: one message at a time per worker, and a send that takes a moment, so that while one
        // worker sends, the broker can only hand the next message to the other.
        environment.Provider.Accept(delay: TimeSpan.FromMilliseconds(20));
        await using var first = await environment.StartWorkerAsync(settings => settings.Consumers(concurrency: 1, prefetch: 1));
        await using var second = await environment.StartWorkerAsync(settings => settings.Consumers(concurrency: 1, prefetch: 1));
        var messageIds = Enumerable.Range(0, Messages).Select(_ => Guid.NewGuid()).ToList();

        // Act: each message published once, confirmed by the broker.
        foreach (var messageId in messageIds)
        {
            await first.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        }

        // Every consume of every copy there is: nothing else can still arrive after this.
        await Eventually.GetAsync(() => first.Events.CompletedTotal + second.Events.CompletedTotal, n => n == Messages, "every message consumed");

        // Assert
        foreach (var messageId in messageIds)
        {
            (first.Events.Completed(messageId) + second.Events.Completed(messageId)).Should().Be(1, "a message goes to one worker");
            environment.Provider.RequestsFor(messageId).Should().ContainSingle("each message is emailed exactly once")
                .Which.Accepted.Should().BeTrue();
        }

        environment.Provider.Requests.Should().HaveCount(Messages);
        first.Events.CompletedTotal.Should().BePositive("{0} took part", first.Name);
        second.Events.CompletedTotal.Should().BePositive("{0} took part", second.Name);
    }
}
