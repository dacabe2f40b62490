using Notification.Worker.DeadLetters;

namespace Notification.Worker.Tests;

/// <summary>Messages the provider never took: the error queue, and the <c>dead-letters</c> commands.</summary>
public sealed class DeadLetterTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task FailingProvider_SendsTheMessageToTheErrorQueue_ListShowsIt_AndReplayDeliversItOnceTheProviderIsBack()
    {
        Environment.Provider.FailWith(503, body: "maintenance");
        await using var worker = await Environment.StartWorkerAsync(settings => settings.Retries(http: 1, message: 2));
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        await Eventually.GetAsync(() => Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue), n => n == 1, "the message in the error queue");
        // First delivery and 2 message retries, each with 1 HTTP retry.
        Environment.Provider.RequestsFor(messageId).Should().HaveCount(6);

        var (listed, listOutput, _) = await RunAsync("list");
        listed.Should().Be(DeadLetterCommand.Done);
        listOutput.Should().Contain("activation-email_error: 1 message(s)")
            .And.Contain(messageId.ToString())
            .And.Contain("UserRegistered")
            .And.Contain("TransientEmailFailureException")
            .And.Contain("503");

        Environment.Provider.Reset();
        var (replayed, replayOutput, _) = await RunAsync("replay");

        replayed.Should().Be(DeadLetterCommand.Done);
        replayOutput.Should().Contain("activation-email_error -> activation-email: replayed 1 message(s)");
        await Environment.Database.WaitForOutcomeAsync(messageId, "sent");
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle();
        (await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue)).Should().Be(0);
    }

    [Fact]
    public async Task Replay_InterruptedBetweenPublishAndAck_LeavesTheMessageInBothQueues_AndItIsEmailedOnce()
    {
        var messageId = Guid.NewGuid();
        Environment.Provider.FailWith(400, body: "bad request");
        await using (var failing = await Environment.StartWorkerAsync())
        {
            await failing.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
            await Eventually.GetAsync(() => Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue), n => n == 1, "the message in the error queue");
        }

        // The worker is down: the replay's copy waits in the queue where we can see it.
        var crash = async () => await WorkerCommand.RunDeadLettersAsync(
            Environment.WorkerSettings(),
            ["replay"],
            queues => queues.AfterPublish = (_, _) => throw new SimulatedCrashException());

        await crash.Should().ThrowAsync<SimulatedCrashException>();
        (await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue)).Should().Be(1, "the dead letter was never acked");
        (await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailQueue)).Should().Be(1, "the copy was confirmed before the crash");
        var copy = (await Broker.PeekAsync(Environment.VirtualHost, Broker.ActivationEmailQueue)).Should().ContainSingle().Subject;
        copy.MessageId.Should().Be(messageId.ToString());
        copy.Headers.Keys.Should().NotContain(key => key.StartsWith("MT-Fault-", StringComparison.Ordinal) || key.StartsWith("MT-Host-", StringComparison.Ordinal) || key == "MT-Reason");

        Environment.Provider.Reset();
        await using var worker = await Environment.StartWorkerAsync();
        await Environment.Database.WaitForOutcomeAsync(messageId, "sent");
        var (replayed, _, _) = await RunAsync("replay", "--queue", "activation-email");
        replayed.Should().Be(DeadLetterCommand.Done);

        await Eventually.GetAsync(() => worker.Events.Completed(messageId), n => n == 2, "the second copy to be consumed");
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle("the second copy is recognised by its MessageId");
        (await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue)).Should().Be(0);
    }

    [Fact]
    public async Task List_OfAQueueThatDoesNotExist_IsAFailure()
    {
        var (exitCode, _, error) = await RunAsync("list", "--queue", "no-such-queue");

        exitCode.Should().Be(DeadLetterCommand.Failure);
        error.Should().Contain("no-such-queue_error");
    }

    private Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) =>
        WorkerCommand.RunDeadLettersAsync(Environment.WorkerSettings(), args);

    private sealed class SimulatedCrashException : Exception
    {
        public SimulatedCrashException() : base("simulated crash between publish and ack") { }
    }
}
