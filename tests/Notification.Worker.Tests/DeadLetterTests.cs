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
        (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle();
        (await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue)).Should().Be(0);
    }

    [Fact]
    public async Task Replay_KilledMidway_LeavesEveryMessageInItsQueueItsErrorQueueOrBoth_AndReplayingAgainEmailsEachOnce()
    {
        // A backlog of dead letters: one a worker refused (so the queues are declared as MassTransit declares
        // them), and the rest put beside it. The worker then stops: the replay's copies wait where they can be counted.
        const int Backlog = 600;
        var letters = Enumerable.Range(0, Backlog)
            .Select(_ => (MessageId: Guid.NewGuid(), Message: TestMessages.UserRegistered(Environment.Clock.GetUtcNow().AddHours(1))))
            .ToList();
        Environment.Provider.FailWith(400);
        await using (var refusing = await Environment.StartWorkerAsync())
        {
            await refusing.PublishAsync(letters[0].Message, letters[0].MessageId);
            await Eventually.GetAsync(() => Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue), n => n == 1, "the first dead letter");
        }

        Environment.Provider.Reset();
        await Broker.PublishDeadLettersAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue, letters.Skip(1));
        var ids = letters.Select(letter => letter.MessageId.ToString()).ToHashSet();

        // SIGKILL the `dead-letters replay` process once it has moved some of them (it moves about a hundred a
        // second, each confirmed by the broker before its dead letter is acked): no shutdown hook runs.
        await using (var replay = ServiceProcess.Start(
            "dead-letters replay", ServiceProcess.Worker, Environment.WorkerSettings().LogLevel("Warning"), ["dead-letters", "replay"]))
        {
            await replay.WaitUntilAsync(
                async () => await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailQueue) >= Backlog / 10, "the replay moves messages");
            replay.Kill();
            await replay.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        // The broker hands the killed connection's unacked message back to the error queue.
        var (inQueue, inErrorQueue) = await Eventually.GetAsync(
            async () => new Whereabouts(await IdsAsync(Broker.ActivationEmailQueue), await IdsAsync(Broker.ActivationEmailErrorQueue)),
            found => found.InQueue.Count + found.InErrorQueue.Count >= Backlog,
            $"every one of {Backlog} messages back in a queue");
        inQueue.Should().NotBeEmpty().And.HaveCountLessThan(Backlog, "the kill must land in the middle of the replay, or this test proves nothing");
        inQueue.Union(inErrorQueue).Should().BeEquivalentTo(ids, "every message is in its queue, its error queue or both, never in neither");
        var inBoth = inQueue.Intersect(inErrorQueue).Count();
        Console.WriteLine($"Killed mid-replay: {inQueue.Count} moved, {inErrorQueue.Count} still dead-lettered, {inBoth} in both.");
        (await Broker.PeekAsync(Environment.VirtualHost, Broker.ActivationEmailQueue, max: 10)).Should().AllSatisfy(copy =>
            copy.Headers.Keys.Should().NotContain(key => key.StartsWith("MT-Fault-", StringComparison.Ordinal) || key.StartsWith("MT-Host-", StringComparison.Ordinal) || key == "MT-Reason"));

        await using var worker = await Environment.StartWorkerAsync();
        var (replayed, _, _) = await RunAsync("replay");

        replayed.Should().Be(DeadLetterCommand.Done);
        await Eventually.GetAsync(
            () => Environment.Database.CountProcessedMessagesAsync(letters.Select(letter => letter.Message.UserId)),
            handled => handled == Backlog,
            "every message handled",
            TimeSpan.FromSeconds(120));
        await Eventually.HoldsAsync(
            async () => await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailQueue) == 0, "the copies in both queues consumed too");
        Environment.Provider.Requests.GroupBy(request => request.MessageId).Should().HaveCount(Backlog)
            .And.AllSatisfy(emails => emails.Should().ContainSingle("a message in both queues is still emailed once"));
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

    private sealed record Whereabouts(HashSet<string> InQueue, HashSet<string> InErrorQueue)
    {
        public override string ToString() => $"{InQueue.Count} in the queue, {InErrorQueue.Count} in the error queue";
    }

    private async Task<HashSet<string>> IdsAsync(string queue) =>
        [.. (await Broker.PeekAsync(Environment.VirtualHost, queue)).Select(message => message.MessageId!)];
}
