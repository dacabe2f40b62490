using FluentAssertions;
using Notification.Worker.Tests.Support;

namespace Notification.Worker.Tests;

/// <summary>SIGTERM (host stop) while an email is being sent.</summary>
public sealed class ShutdownTests(WorkerTestEnvironment environment) : IClassFixture<WorkerTestEnvironment>, IAsyncLifetime
{
    private readonly WorkerTestEnvironment _environment = environment;

    public Task InitializeAsync()
    {
        _environment.Provider.Reset();
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Stop_LetsAnInFlightSendFinish()
    {
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Ok().WithDelay(TimeSpan.FromSeconds(1)));
        var worker = await WorkerHost.StartAsync(_environment, new Dictionary<string, string?> { ["Consumer:StopTimeout"] = "00:00:10" });
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => worker.Probe.Started(messageId), n => n == 1, "the send to start");

        await worker.DisposeAsync();

        (await WorkerHost.ProcessedOutcomeAsync(_environment, messageId)).Should().Be("sent");
        (await Broker.CountAsync(_environment, Broker.Queue)).Should().Be(0, "the message was acked before the worker stopped");
    }

    [Fact]
    public async Task Stop_ReturnsASendThatOutlivesTheStopTimeoutToTheQueue()
    {
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Ok().WithDelay(TimeSpan.FromSeconds(8)));
        var worker = await WorkerHost.StartAsync(_environment, new Dictionary<string, string?>
        {
            ["Consumer:StopTimeout"] = "00:00:00.500",
            ["Email:Resilience:AttemptTimeout"] = "00:00:20",
            ["Email:Resilience:TotalTimeout"] = "00:00:30",
        });
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => worker.Probe.Started(messageId), n => n == 1, "the send to start");

        await worker.DisposeAsync();

        (await WorkerHost.ProcessedOutcomeAsync(_environment, messageId)).Should().BeNull();
        (await Broker.CountAsync(_environment, Broker.ErrorQueue)).Should().Be(0, "a cancelled send is not a failure");
        (await Broker.CountAsync(_environment, Broker.Queue)).Should().Be(1, "the unfinished message waits for the next worker");
    }
}
