using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Notification.Worker.DeadLetters;
using Notification.Worker.Tests.Support;

namespace Notification.Worker.Tests;

/// <summary>Messages the provider never took: the error queue, and the <c>dead-letters</c> commands.</summary>
public sealed class DeadLetterTests(WorkerTestEnvironment environment) : IClassFixture<WorkerTestEnvironment>, IAsyncLifetime
{
    private readonly WorkerTestEnvironment _environment = environment;

    public Task InitializeAsync()
    {
        _environment.Provider.Reset();
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task FailingProvider_SendsTheMessageToTheErrorQueue_ListShowsIt_AndReplayDeliversItOnceTheProviderIsBack()
    {
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Status(503, "maintenance"));
        await using var worker = await WorkerHost.StartAsync(_environment, new Dictionary<string, string?>
        {
            ["Email:Resilience:MaxRetryAttempts"] = "1",
            ["Consumer:MessageRetryLimit"] = "2",
        });
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        await Eventually.GetAsync(() => Broker.CountAsync(_environment, Broker.ErrorQueue), n => n == 1, "the message in the error queue");
        // First delivery and 2 message retries, each with 1 HTTP retry.
        _environment.Provider.RequestsFor(messageId).Should().HaveCount(6);

        var (listed, listOutput, _) = await RunAsync("dead-letters", "list");
        listed.Should().Be(DeadLetterCommand.Done);
        listOutput.Should().Contain("activation-email_error: 1 message(s)")
            .And.Contain(messageId.ToString())
            .And.Contain("UserRegistered")
            .And.Contain("TransientEmailFailureException")
            .And.Contain("503");

        _environment.Provider.Reset();
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Ok());
        var (replayed, replayOutput, _) = await RunAsync("dead-letters", "replay");

        replayed.Should().Be(DeadLetterCommand.Done);
        replayOutput.Should().Contain("activation-email_error -> activation-email: replayed 1 message(s)");
        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the replayed message to be sent");
        _environment.Provider.RequestsFor(messageId).Should().ContainSingle();
        (await Broker.CountAsync(_environment, Broker.ErrorQueue)).Should().Be(0);
    }

    [Fact]
    public async Task Replay_InterruptedBetweenPublishAndAck_LeavesTheMessageInBothQueues_AndItIsEmailedOnce()
    {
        var messageId = Guid.NewGuid();
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Status(400, "bad request"));
        await using (var failing = await WorkerHost.StartAsync(_environment))
        {
            await failing.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
            await Eventually.GetAsync(() => Broker.CountAsync(_environment, Broker.ErrorQueue), n => n == 1, "the message in the error queue");
        }

        // The worker is down: the replay's copy waits in the queue where we can see it.
        var crash = async () => await RunAsync(
            ["dead-letters", "replay"],
            queues => queues.AfterPublish = (_, _) => throw new SimulatedCrashException());

        await crash.Should().ThrowAsync<SimulatedCrashException>();
        (await Broker.CountAsync(_environment, Broker.ErrorQueue)).Should().Be(1, "the dead letter was never acked");
        (await Broker.CountAsync(_environment, Broker.Queue)).Should().Be(1, "the copy was confirmed before the crash");
        var copy = (await Broker.PeekAsync(_environment, Broker.Queue)).Should().ContainSingle().Subject;
        copy.MessageId.Should().Be(messageId.ToString());
        var copyHeaders = await Broker.HeadersOfFirstAsync(_environment, Broker.Queue);
        copyHeaders.Keys.Should().NotContain(key => key.StartsWith("MT-Fault-", StringComparison.Ordinal) || key.StartsWith("MT-Host-", StringComparison.Ordinal) || key == "MT-Reason");

        _environment.Provider.Reset();
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Ok());
        await using var worker = await WorkerHost.StartAsync(_environment);
        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the copy to be sent");
        var (replayed, _, _) = await RunAsync("dead-letters", "replay", "--queue", "activation-email");
        replayed.Should().Be(DeadLetterCommand.Done);

        await Eventually.GetAsync(() => worker.Probe.Completed(messageId), n => n == 2, "the second copy to be consumed");
        _environment.Provider.RequestsFor(messageId).Should().ContainSingle("the second copy is recognised by its MessageId");
        (await Broker.CountAsync(_environment, Broker.ErrorQueue)).Should().Be(0);
    }

    [Fact]
    public async Task List_OfAQueueThatDoesNotExist_IsAFailure()
    {
        var (exitCode, _, error) = await RunAsync("dead-letters", "list", "--queue", "no-such-queue");

        exitCode.Should().Be(DeadLetterCommand.Failure);
        error.Should().Contain("no-such-queue_error");
    }

    private Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => RunAsync(args, configureQueues: null);

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args, Action<DeadLetterQueues>? configureQueues)
    {
        var vhost = _environment.VirtualHost;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RabbitMq:Host"] = vhost.Host,
            ["RabbitMq:Port"] = vhost.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = vhost.VirtualHost,
            ["RabbitMq:Username"] = vhost.Username,
            ["RabbitMq:Password"] = vhost.Password,
        }).Build();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await DeadLetterCommand.RunAsync(args, configuration, output, error, configureQueues, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private sealed class SimulatedCrashException : Exception
    {
        public SimulatedCrashException() : base("simulated crash between publish and ack") { }
    }
}
