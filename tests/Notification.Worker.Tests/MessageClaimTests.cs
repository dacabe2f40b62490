using Microsoft.Extensions.Time.Testing;
using Notification.Worker.Consumers;
using Notification.Worker.Email;
using Notification.Worker.Email.Templates;
using Notification.Worker.Infrastructure;

namespace Notification.Worker.Tests;

/// <summary>The claim a worker takes on a MessageId before sending: atomic, and a lease that a dead holder outlives only briefly.</summary>
public sealed class MessageClaimTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    private static readonly DateTimeOffset Now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ManyClaimsOfOneMessageAtOnce_ExactlyOneWins_EveryRound()
    {
        const int Rounds = 100;
        const int Contenders = 8;
        await using var dataSource = await Environment.WorkerDataSourceAsync();
        // Two workers: copies at one worker share a statement (and are written one after another in it), copies
        // at different workers race in separate statements.
        MessageClaims[] workers = [new(dataSource), new(dataSource)];
        var email = ActivationCodeTemplate.Render(null, Guid.NewGuid(), "race@example.test", new EmailCode("0427", Now, Now.AddMinutes(1)));

        for (var round = 0; round < Rounds; round++)
        {
            var messageId = Guid.NewGuid();
            using var start = new ManualResetEventSlim();
            var attempts = Enumerable.Range(0, Contenders).Select(contender => Task.Run(async () =>
            {
                start.Wait();
                return await workers[contender % workers.Length].ClaimAsync(messageId, email with { MessageId = messageId }, Now, Now.AddSeconds(10), CancellationToken.None);
            })).ToArray();
            start.Set();
            var outcomes = (await Task.WhenAll(attempts)).Select(claim => claim.Outcome).ToList();

            outcomes.Count(outcome => outcome == ClaimOutcome.Claimed).Should().Be(1, "round {0}: {1}", round, string.Join(", ", outcomes));
            outcomes.Should().AllSatisfy(outcome => outcome.Should().BeOneOf(ClaimOutcome.Claimed, ClaimOutcome.HeldElsewhere));
        }
    }

    [Fact]
    public async Task TwoWorkersClaimingTheSameMessagesInOppositeOrders_NeverDeadlock_AndEachMessageIsClaimedOnce()
    {
        // Each worker's claims go in statements of many rows; two such statements that locked their common rows
        // in opposite orders would deadlock (40P01). Rows are written in MessageId order, whatever the order they came in.
        const int Rounds = 20;
        const int Messages = 64;
        await using var dataSource = await Environment.WorkerDataSourceAsync();
        var first = new MessageClaims(dataSource);
        var second = new MessageClaims(dataSource);

        for (var round = 0; round < Rounds; round++)
        {
            var messageIds = Enumerable.Range(0, Messages).Select(_ => Guid.NewGuid()).ToList();
            using var start = new ManualResetEventSlim();
            var firstClaims = Task.Run(() => ClaimAllAsync(first, messageIds, start));
            var secondClaims = Task.Run(() => ClaimAllAsync(second, Enumerable.Reverse(messageIds).ToList(), start));
            start.Set();
            var outcomes = (await firstClaims).Concat(await secondClaims).ToLookup(claim => claim.MessageId, claim => claim.Outcome);

            foreach (var messageId in messageIds)
            {
                outcomes[messageId].Should().BeEquivalentTo([ClaimOutcome.Claimed, ClaimOutcome.HeldElsewhere], "round {0}: one worker claims, the other finds it held", round);
            }
        }

        static async Task<Claim[]> ClaimAllAsync(MessageClaims claims, IReadOnlyList<Guid> messageIds, ManualResetEventSlim start)
        {
            start.Wait();
            return await Task.WhenAll(messageIds.Select(messageId => claims.ClaimAsync(
                messageId,
                ActivationCodeTemplate.Render(messageId, Guid.NewGuid(), "order@example.test", new EmailCode("0427", Now, Now.AddMinutes(1))),
                Now,
                Now.AddSeconds(10),
                CancellationToken.None)));
        }
    }

    [Fact]
    public async Task TwoCodesOfOneUserAndAddressInOneStatement_TheOlderIsSuperseded()
    {
        await using var dataSource = await Environment.WorkerDataSourceAsync();
        var claims = new MessageClaims(dataSource);
        var userId = Guid.NewGuid();
        var (olderId, newerId) = (Guid.NewGuid(), Guid.NewGuid());
        var older = ActivationCodeTemplate.Render(olderId, userId, "twice@example.test", new EmailCode("1111", Now, Now.AddMinutes(1)));
        var newer = ActivationCodeTemplate.Render(newerId, userId, "Twice@Example.test", new EmailCode("2222", Now.AddSeconds(30), Now.AddSeconds(90)));

        var blocking = await BlockedClaimStatement.StartAsync(Environment.Database, claims, Now);
        var claimingOlder = claims.ClaimAsync(olderId, older, Now, Now.AddSeconds(10), CancellationToken.None);
        var claimingNewer = claims.ClaimAsync(newerId, newer, Now, Now.AddSeconds(10), CancellationToken.None);
        await blocking.DisposeAsync();

        (await claimingNewer).Outcome.Should().Be(ClaimOutcome.Claimed);
        (await claimingOlder).Outcome.Should().Be(ClaimOutcome.Superseded, "a newer code for the same user and address came in the same statement");
        (await Environment.Database.GetProcessedOutcomeAsync(olderId)).Should().Be("superseded");
    }

    [Fact]
    public async Task AClaimWhoseCallerStoppedWaiting_IsReleased_NotLeftHeldUntilItsLeaseEnds()
    {
        await using var dataSource = await Environment.WorkerDataSourceAsync();
        var claims = new MessageClaims(dataSource);
        var other = new MessageClaims(dataSource);
        var messageId = Guid.NewGuid();
        var email = ActivationCodeTemplate.Render(messageId, Guid.NewGuid(), "gone@example.test", new EmailCode("0427", Now, Now.AddMinutes(1)));

        var blocking = await BlockedClaimStatement.StartAsync(Environment.Database, claims, Now);
        using var stopping = new CancellationTokenSource();
        var abandoned = claims.ClaimAsync(messageId, email, Now, Now.AddSeconds(10), stopping.Token);
        await stopping.CancelAsync();
        await abandoned.Invoking(claim => claim).Should().ThrowAsync<OperationCanceledException>();
        await blocking.DisposeAsync();

        // Its statement still runs and claims the message; nobody will send it, so it is handed back at once
        // (the clock does not move: without the release the other worker would find it held for the whole lease).
        await Eventually.GetAsync(
            async () => (await other.ClaimAsync(messageId, email, Now, Now.AddSeconds(10), CancellationToken.None)).Outcome,
            outcome => outcome == ClaimOutcome.Claimed,
            "the abandoned claim released");
    }

    [Fact]
    public async Task RecordsWrittenTogether_EachCountOnlyForTheirOwnClaim()
    {
        // Concurrent records share a statement: each must still be written only while its claim is its holder's.
        const int Messages = 40;
        await using var dataSource = await Environment.WorkerDataSourceAsync();
        var holder = new MessageClaims(dataSource);
        var other = new MessageClaims(dataSource);
        var email = ActivationCodeTemplate.Render(null, Guid.NewGuid(), "batch@example.test", new EmailCode("0427", Now, Now.AddMinutes(1)));
        var claims = new List<Claim>();
        for (var i = 0; i < Messages; i++)
        {
            var messageId = Guid.NewGuid();
            claims.Add(await holder.ClaimAsync(messageId, email with { MessageId = messageId }, Now, Now.AddSeconds(10), CancellationToken.None));
        }

        // Every other claim ran out and another worker took it over.
        var takenOver = claims.Where((_, i) => i % 2 == 1).ToList();
        foreach (var claim in takenOver)
        {
            var later = Now.AddSeconds(11);
            (await other.ClaimAsync(claim.MessageId, email with { MessageId = claim.MessageId }, later, later.AddSeconds(10), CancellationToken.None))
                .Outcome.Should().Be(ClaimOutcome.Claimed);
        }

        var recorded = await Task.WhenAll(claims.Select(claim => holder.CompleteAsync(claim, MessageClaims.Sent, CancellationToken.None)));

        recorded.Should().Equal(claims.Select(claim => !takenOver.Contains(claim)), "a record counts only for a claim still held");
        foreach (var claim in claims)
        {
            (await Environment.Database.GetProcessedOutcomeAsync(claim.MessageId)).Should().Be(takenOver.Contains(claim) ? "claimed" : "sent");
        }
    }

    [Fact]
    public async Task AClaimLeftByAWorkerThatDied_HoldsTheMessageOnlyUntilItsLeaseEnds_ThenAnotherWorkerSendsIt()
    {
        var clock = new FakeTimeProvider(Now);
        await using var worker = await Environment.StartWorkerAsync(
            settings => settings.Set("Consumer:ClaimLease", TimeSpan.FromSeconds(10)), clock);
        var message = TestMessages.UserRegistered(Now.AddMinutes(1));
        var messageId = Guid.NewGuid();
        // What a worker killed in the middle of this send left behind: its claim, leased for ten seconds.
        await Environment.Database.ClaimAsADeadWorkerAsync(messageId, message.UserId, leaseUntil: Now.AddSeconds(10));

        await worker.PublishAsync(message, messageId);
        await Eventually.HoldsAsync(() => worker.Logs.Lines.Any(line => line.EventName == "HeldElsewhere"), "the copy finds the claim held");
        Environment.Provider.RequestsFor(messageId).Should().BeEmpty("the holder might still be sending");
        worker.Events.Completed(messageId).Should().Be(0, "a copy whose message is held elsewhere is not acked as done");

        clock.Advance(TimeSpan.FromSeconds(10));

        (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle();
    }

    [Fact]
    public async Task ASendSlowerThanItsLease_KeepsItsClaim_SoTheOtherCopyWaitsAndIsNotSent()
    {
        // A one-second lease (on the business clock), renewed every third of it (on the wall clock), and a
        // provider that takes 4 s: the copy at the other worker waits; only the holder's renewals keep it from
        // taking the message over and sending it a second time once the business clock passes the first lease.
        var clock = new FakeTimeProvider(Now);
        Environment.Provider.Accept(delay: TimeSpan.FromSeconds(4));
        await using var first = await Environment.StartWorkerAsync(
            settings => settings.Consumers(concurrency: 1, prefetch: 1).Set("Consumer:ClaimLease", TimeSpan.FromSeconds(1)), clock);
        await using var second = await Environment.StartWorkerAsync(
            settings => settings.Consumers(concurrency: 1, prefetch: 1).Set("Consumer:ClaimLease", TimeSpan.FromSeconds(1)), clock);
        var messageId = Guid.NewGuid();
        var message = TestMessages.UserRegistered(Now.AddMinutes(1));

        await first.PublishAsync(message, messageId);
        await first.PublishAsync(message, messageId);
        await Eventually.HoldsAsync(
            () => first.Logs.Lines.Concat(second.Logs.Lines).Any(line => line.EventName == "HeldElsewhere"), "the second copy waits for the first");

        clock.Advance(TimeSpan.FromMilliseconds(900));
        await Eventually.GetAsync(
            () => Environment.Database.GetLeaseUntilAsync(messageId), until => until > Now.AddSeconds(1), "the holder renewed its lease while sending");
        // Past the first lease, within the renewed one: the waiting copy must not take the message over.
        clock.Advance(TimeSpan.FromMilliseconds(600));

        await Eventually.GetAsync(() => first.Events.Completed(messageId) + second.Events.Completed(messageId), n => n == 2, "both copies handled");
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle("the slow send kept its claim past the first lease");
        first.Logs.Lines.Concat(second.Logs.Lines).Should().NotContain(line => line.EventName == "ClaimLost");
    }

    [Fact]
    public async Task AFailedSend_ReleasesItsClaim_SoItsRetryIsNotHeldUp()
    {
        Environment.Provider.AnswerInSequence(ProviderAnswer.Fail(503), ProviderAnswer.Ok());
        await using var worker = await Environment.StartWorkerAsync(settings => settings.Retries(http: 0, message: 1));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(Now.AddYears(10)), messageId);

        (await Environment.SentRequestsAsync(messageId)).Select(request => request.Status).Should().Equal(503, 200);
        worker.Logs.Lines.Should().NotContain(line => line.EventName == "HeldElsewhere", "the failed attempt gave its claim back");
    }
}
