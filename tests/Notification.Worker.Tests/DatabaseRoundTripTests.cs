namespace Notification.Worker.Tests;

/// <summary>Runs after the parallel test classes, alone: the probe counts every command of the process.</summary>
[CollectionDefinition(nameof(AloneInProcess), DisableParallelization = true)]
public sealed class AloneInProcess;

/// <summary>What an email costs the database: the claim (with the newer-code check) and the record, nothing more.</summary>
[Collection(nameof(AloneInProcess))]
public sealed class DatabaseRoundTripTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task AnEmail_CostsTwoStatements_TheClaimAndTheRecord()
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

        seen.Should().HaveCount(2 * Emails, "one claim and one record per email");
        seen.Count(sql => sql.Contains("INSERT INTO notification.processed_messages", StringComparison.Ordinal)).Should().Be(Emails, "the claims");
        seen.Count(sql => sql.StartsWith("UPDATE notification.processed_messages", StringComparison.Ordinal)).Should().Be(Emails, "the records");
    }
}
