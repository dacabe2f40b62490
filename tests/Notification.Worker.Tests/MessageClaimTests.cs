using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Notification.Worker.Consumers;
using Notification.Worker.Email;
using Notification.Worker.Email.Templates;
using Notification.Worker.Infrastructure;
using Npgsql;
using Registration.Hosting;

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
        await SchemaMigrator.MigrateAsync(Environment.ConnectionString, NotificationWorkerExtensions.Migrations, NullLogger.Instance, CancellationToken.None);
        await using var dataSource = NpgsqlDataSource.Create(Environment.ConnectionString);
        var claims = new MessageClaims(dataSource);
        var email = ActivationCodeTemplate.Render(null, Guid.NewGuid(), "race@example.test", new EmailCode("0427", Now, Now.AddMinutes(1)));

        for (var round = 0; round < Rounds; round++)
        {
            var messageId = Guid.NewGuid();
            using var start = new ManualResetEventSlim();
            var attempts = Enumerable.Range(0, Contenders).Select(_ => Task.Run(async () =>
            {
                start.Wait();
                return await claims.ClaimAsync(messageId, email with { MessageId = messageId }, Now, Now.AddSeconds(10), CancellationToken.None);
            })).ToArray();
            start.Set();
            var outcomes = (await Task.WhenAll(attempts)).Select(claim => claim.Outcome).ToList();

            outcomes.Count(outcome => outcome == ClaimOutcome.Claimed).Should().Be(1, "round {0}: {1}", round, string.Join(", ", outcomes));
            outcomes.Should().AllSatisfy(outcome => outcome.Should().BeOneOf(ClaimOutcome.Claimed, ClaimOutcome.HeldElsewhere));
        }
    }

    [Fact]
    public async Task RecordsWrittenTogether_EachCountOnlyForTheirOwnClaim()
    {
        // Concurrent records share a statement: each must still be written only while its claim is its holder's.
        const int Messages = 40;
        await SchemaMigrator.MigrateAsync(Environment.ConnectionString, NotificationWorkerExtensions.Migrations, NullLogger.Instance, CancellationToken.None);
        await using var dataSource = NpgsqlDataSource.Create(Environment.ConnectionString);
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

        var recorded = await Task.WhenAll(claims.Select(claim => holder.CompleteAsync(claim, MessageClaims.Sent, Now.AddSeconds(12), CancellationToken.None)));

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

        await Environment.Database.WaitForOutcomeAsync(messageId, "sent");
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle();
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

        await Environment.Database.WaitForOutcomeAsync(messageId, "sent");
        Environment.Provider.RequestsFor(messageId).Select(request => request.Status).Should().Equal(503, 200);
        worker.Logs.Lines.Should().NotContain(line => line.EventName == "HeldElsewhere", "the failed attempt gave its claim back");
    }
}
