using Notification.Worker.Consumers;
using Notification.Worker.Email;
using Notification.Worker.Email.Templates;
using Notification.Worker.Infrastructure;

namespace Notification.Worker.Tests;

/// <summary>Runs after the parallel test classes, alone: the probe counts every command of the process.</summary>
[CollectionDefinition(nameof(AloneInProcess), DisableParallelization = true)]
public sealed class AloneInProcess;

/// <summary>What an email costs the database: the claim (with the newer-code check) and the record, nothing more; claims, and records, of concurrent sends share statements.</summary>
[Collection(nameof(AloneInProcess))]
public sealed class DatabaseRoundTripTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task AnEmail_CostsAtMostTwoStatements_ItsClaimAndItsRecord_EachSharedWithConcurrentSends()
    {
        const int Emails = 50;
        await using var worker = await Environment.StartWorkerAsync();
        var ids = Enumerable.Range(0, Emails).Select(_ => Guid.NewGuid()).ToList();
        using var statements = new DatabaseStatements("notification.processed_messages");

        foreach (var id in ids)
        {
            await worker.PublishAsync(TestMessages.UserRegistered(Environment.Clock.GetUtcNow().AddHours(1)), id);
        }

        await Eventually.GetAsync(() => worker.Events.Completed<Registration.Contracts.V1.UserRegistered>(), n => n == Emails, "every email sent");
        // The hourly purge's first pass may land in the window: maintenance, not a cost of an email.
        var seen = statements.All.Where(sql => !sql.StartsWith("DELETE FROM notification.processed_messages WHERE processed_at <", StringComparison.Ordinal)).ToList();
        Console.WriteLine($"{seen.Count} statements for {Emails} emails: {seen.Count / (double)Emails:0.##} per email");

        var claims = seen.Count(sql => sql.Contains("INSERT INTO notification.processed_messages", StringComparison.Ordinal));
        var records = seen.Count(sql => sql.StartsWith("UPDATE notification.processed_messages", StringComparison.Ordinal));
        claims.Should().BeInRange(1, Emails, "the claims, some shared by concurrent sends");
        records.Should().BeInRange(1, Emails, "the records, some shared by concurrent sends");
        seen.Should().HaveCount(claims + records, "nothing but claims and records");
        foreach (var id in ids)
        {
            (await Environment.Database.GetProcessedOutcomeAsync(id)).Should().Be("sent", "every email's record was written, shared or not");
        }

        // PostgreSQL reports its counters a little later: wait until it counted the records.
        var updates = await Eventually.GetAsync(
            () => Environment.Database.GetProcessedMessagesUpdatesAsync(), counted => counted.Updated >= Emails, "the records counted");
        Console.WriteLine($"{updates.Updated} updates, {updates.HeapOnly} heap-only");
        updates.HeapOnly.Should().BeGreaterThanOrEqualTo(updates.Updated * 9 / 10, "a record changes no indexed column, so it adds no index entry");
    }

    [Fact]
    public async Task ClaimsMadeWhileAClaimStatementRuns_GoTogetherInTheNextOne()
    {
        const int Waiting = 10;
        var now = Environment.Clock.GetUtcNow();
        await using var dataSource = await Environment.WorkerDataSourceAsync();
        var claims = new MessageClaims(dataSource);
        List<Task<Claim>> queued;
        DatabaseStatements statements;
        await using (await BlockedClaimStatement.StartAsync(Environment.Database, claims, now))
        {
            // Counts what starts from here: the blocked statement began before.
            statements = new DatabaseStatements("notification.processed_messages");
            queued = Enumerable.Range(0, Waiting).Select(_ =>
            {
                var messageId = Guid.NewGuid();
                var email = ActivationCodeTemplate.Render(messageId, Guid.NewGuid(), "queued@example.test", new EmailCode("0427", now, now.AddMinutes(1)));
                return claims.ClaimAsync(messageId, email, now, now.AddSeconds(10), CancellationToken.None);
            }).ToList();
        }

        (await Task.WhenAll(queued)).Should().AllSatisfy(claim => claim.Outcome.Should().Be(ClaimOutcome.Claimed));
        using (statements)
        {
            statements.All.Count(sql => sql.Contains("INSERT INTO notification.processed_messages", StringComparison.Ordinal))
                .Should().Be(1, "the {0} claims that queued behind the blocked statement go in one", Waiting);
        }
    }
}
