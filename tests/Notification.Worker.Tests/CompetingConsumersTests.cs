using FluentAssertions;
using Notification.Worker.Tests.Support;

namespace Notification.Worker.Tests;

/// <summary>N worker instances share one queue.</summary>
public sealed class CompetingConsumersTests(WorkerTestEnvironment environment) : IClassFixture<WorkerTestEnvironment>
{
    private readonly WorkerTestEnvironment _environment = environment;

    [Fact]
    public async Task TwoWorkers_OnOneQueue_EmailEachMessageOnce()
    {
        _environment.Provider.Reset();
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Ok().WithDelay(TimeSpan.FromMilliseconds(20)));
        var oneAtATime = new Dictionary<string, string?>
        {
            ["Consumer:ConcurrentMessageLimit"] = "1",
            ["Consumer:PrefetchCount"] = "1",
        };
        await using var first = await WorkerHost.StartAsync(_environment, oneAtATime);
        await using var second = await WorkerHost.StartAsync(_environment, oneAtATime);
        var messageIds = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();

        foreach (var messageId in messageIds)
        {
            await first.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        }

        await Eventually.GetAsync(() => first.Probe.CompletedTotal + second.Probe.CompletedTotal, n => n == 20, "all messages consumed");
        foreach (var messageId in messageIds)
        {
            _environment.Provider.RequestsFor(messageId).Should().ContainSingle();
            (first.Probe.Completed(messageId) + second.Probe.Completed(messageId)).Should().Be(1);
        }

        first.Probe.CompletedTotal.Should().BePositive();
        second.Probe.CompletedTotal.Should().BePositive();
    }
}
