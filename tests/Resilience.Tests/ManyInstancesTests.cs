using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Notification.Worker.Infrastructure;
using Registration.Api.Infrastructure;
using Registration.Contracts.V1;

namespace Resilience.Tests;

/// <summary>
/// Many instances, one system: 2 API processes and 3 worker processes on one database and one virtual host.
/// Both APIs start at the same instant (their migrations race for the advisory lock); a burst of sign-ups is
/// spread over both; mid-burst one API and one worker are SIGKILLed, and the load balancer (here: the test's
/// client) sends the rest to the survivor. Every 201 gets its email; the dispatchers of the two APIs share
/// the outbox without publishing a row twice, except the rows the killed API had published but not yet
/// marked (its claim dies with it, and the survivor publishes them again); the only duplicate emails are
/// those, and the sends the killed worker had under way (docs/reliability.md, "Where duplicates remain possible").
/// </summary>
public sealed partial class ManyInstancesTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    private const int Users = 400;
    private const int KillApiAfterCreated = 130;
    private const int KillWorkerAfterDelivered = 100;
    private const int WorkerConcurrency = 4;
    private const int WorkerPrefetch = 8;
    private const string MigratorCategory = "Registration.Hosting.SchemaMigrator";

    /// <summary>The migrator's SchemaMigrated line: "Schema … is up to date; N script(s) applied now".</summary>
    [GeneratedRegex(@"is up to date; (\d+) script\(s\) applied now")]
    private static partial Regex AppliedNow();

    [Fact]
    public async Task EverySignUpIsEmailed_AndNoRowIsPublishedTwice_WithTwoApisAndThreeWorkers_WhenOneOfEachIsKilledMidBurst()
    {
        var clock = Stopwatch.StartNew();
        // The child processes run on the wall clock: codes must not expire while the scenario runs. The
        // migrator's one line (SchemaMigrated) says how many scripts each API applied.
        Action<TestSettings> apiSettings = settings => settings.CodeLifetime(TimeSpan.FromMinutes(30)).LogLevel("Information", MigratorCategory);
        var apis = await Task.WhenAll(environment.StartApiProcessAsync(apiSettings), environment.StartApiProcessAsync(apiSettings));
        var workers = await environment.StartWorkerProcessesAsync(3, settings => settings.Consumers(WorkerConcurrency, WorkerPrefetch));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: APIs {string.Join(", ", apis.Select(a => a.Id))} and workers {string.Join(", ", workers.Select(w => w.Id))} running.");

        // Migrations ran once although both APIs started together: one applied every script, the other found none to apply.
        var journal = await environment.Database.GetMigrationJournalAsync(ApplicationServices.Migrations);
        journal.Applied.Keys.Should().BeEquivalentTo(journal.Scripts, "every script of the API is journalled");
        journal.Applied.Values.Should().OnlyContain(times => times == 1, "no script ran twice");
        var appliedNow = apis.Select(api => AppliedNow().Match(api.Output)).ToList();
        appliedNow.Should().OnlyContain(line => line.Success, "each API logs what it applied");
        appliedNow.Select(line => int.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture)).Should().BeEquivalentTo(
            [journal.Scripts.Count, 0], "one API applied the scripts; the other waited for the lock and found nothing to do");
        var workerJournal = await environment.Database.GetMigrationJournalAsync(NotificationWorkerExtensions.Migrations);
        workerJournal.Applied.Keys.Should().BeEquivalentTo(workerJournal.Scripts);
        workerJournal.Applied.Values.Should().OnlyContain(times => times == 1, "three workers started at once migrate their schema once");

        await using var tap = await ExchangeTap.BindAsync(environment.VirtualHost, Broker.ExchangeOf<UserRegistered>());
        // A provider that takes a moment per email, so that sends are under way when a worker dies.
        environment.Provider.Accept(delay: TimeSpan.FromMilliseconds(20));
        var (victimApi, survivorApi) = (apis[0], apis[1]);
        using var victimClient = new HttpClient { BaseAddress = victimApi.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var survivorClient = new HttpClient { BaseAddress = survivorApi.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        var users = Enumerable.Range(0, Users).Select(index => (Index: index, User: TestUser.New("scaled"))).ToArray();
        var created = new ConcurrentBag<TestUser>();
        var unanswered = new ConcurrentBag<TestUser>();
        var victimKilled = 0;
        long lastRequestBeforeWorkerDied = -1;
        var burst = Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (entry, _) =>
        {
            // Even users go to the victim while it lives, the rest (and everything after the kill) to the survivor.
            var client = entry.Index % 2 == 0 && Volatile.Read(ref victimKilled) == 0 ? victimClient : survivorClient;
            try
            {
                using var response = await client.RegisterAsync(entry.User);
                response.StatusCode.Should().Be(HttpStatusCode.Created);
                created.Add(entry.User);
            }
            catch (HttpRequestException) when (client == victimClient && Volatile.Read(ref victimKilled) == 1)
            {
                unanswered.Add(entry.User); // in flight when the victim died: no answer, maybe committed
            }
        });
        var killer = Task.Run(async () =>
        {
            await Eventually.HoldsAsync(() => created.Count >= KillApiAfterCreated, $"{KillApiAfterCreated} sign-ups answered", TimeSpan.FromSeconds(60));
            Volatile.Write(ref victimKilled, 1);
            victimApi.Kill();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: SIGKILL to API {victimApi.Id} after {created.Count} sign-ups answered 201.");
            await Eventually.HoldsAsync(
                () => environment.Provider.Delivered.Count >= KillWorkerAfterDelivered, $"{KillWorkerAfterDelivered} emails", TimeSpan.FromSeconds(60));
            workers[0].Kill();
            await workers[0].WaitForExitAsync(TimeSpan.FromSeconds(10));
            // Whatever the dead worker sent, the provider had received by now (it records a request on arrival).
            lastRequestBeforeWorkerDied = environment.Provider.Requests.Max(request => request.Sequence);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: SIGKILL to worker {workers[0].Id} after {environment.Provider.Delivered.Count} emails.");
        });
        await Task.WhenAll(burst, killer);
        await victimApi.WaitForExitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: burst over: {created.Count} answered 201, {unanswered.Count} in flight at the API kill.");

        // Registrations the victim committed but could not answer are users too: their events are in the outbox.
        var committedUnanswered = new List<TestUser>();
        foreach (var user in unanswered)
        {
            if (await environment.Database.GetUserIdAsync(user.Email) is { } id)
            {
                user.Id = id;
                committedUnanswered.Add(user);
            }
        }

        var sent = created.ToArray();
        var counts = await Deliveries.WaitForAllAsync([.. sent, .. committedUnanswered], environment.Provider, environment.Database, TimeSpan.FromSeconds(90));
        await Eventually.HoldsAsync(
            async () => (await environment.Database.GetOutboxStateAsync()) is { } outbox && outbox.Dispatched == outbox.Rows,
            "every outbox row marked dispatched (the survivor took over the victim's)",
            TimeSpan.FromSeconds(30));
        counts = await Deliveries.CountAsync(sent, environment.Provider, environment.Database);

        // At the broker: every outbox row published; a row published twice only in the victim's crash window.
        var outboxIds = await environment.Database.GetOutboxMessageIdsAsync();
        var published = (await tap.ReadAsync()).GroupBy(message => Guid.Parse(message.MessageId!)).ToDictionary(group => group.Key, group => group.ToArray());
        published.Keys.Should().BeEquivalentTo(outboxIds, "every outbox row reached the broker, and nothing else did");
        var publishedTwice = published.Where(pair => pair.Value.Length > 1).ToArray();
        foreach (var (messageId, copies) in publishedTwice)
        {
            copies.Should().HaveCount(2, $"{messageId}: at most the victim's copy and the survivor's");
            copies.Select(copy => copy.PublisherProcessId).Should().BeEquivalentTo(
                new int?[] { victimApi.Id, survivorApi.Id }, $"{messageId} published twice: only a row the victim published and could not mark is published again");
        }

        // At the provider: a duplicate email is one of the two crash windows.
        var accepted = environment.Provider.Delivered.Where(request => request.MessageId is not null).GroupBy(request => request.MessageId!).ToArray();
        var duplicateEmails = accepted.Where(group => group.Count() > 1).ToArray();
        var republished = publishedTwice.Select(pair => pair.Key.ToString()).ToHashSet();
        var fromTheDeadWorker = duplicateEmails.Where(group => !republished.Contains(group.Key)).ToArray();
        foreach (var group in fromTheDeadWorker)
        {
            group.Min(request => request.Sequence).Should().BeLessThanOrEqualTo(
                lastRequestBeforeWorkerDied, $"{group.Key} emailed twice: its first send must have been under way when the worker died");
        }

        fromTheDeadWorker.Should().HaveCountLessThanOrEqualTo(WorkerConcurrency, "the dead worker had at most its concurrency of sends under way");

        output.WriteLine($"Counts: {counts}.");
        output.WriteLine(
            $"In flight at the API kill: {unanswered.Count} (committed {committedUnanswered.Count}, all emailed). "
            + $"Published {published.Values.Sum(copies => copies.Length)} for {published.Count} outbox rows: {publishedTwice.Length} published twice "
            + $"(victim's unmarked batch). Duplicate emails: {duplicateEmails.Length} ({duplicateEmails.Length - fromTheDeadWorker.Length} of republished rows, "
            + $"{fromTheDeadWorker.Length} in flight at the worker kill). Took {clock.Elapsed.TotalSeconds:0.0} s.");
        counts.Lost.Should().Be(0);
        counts.Sent.Should().Be(created.Count).And.BeGreaterThan(Users - 20, "only requests in flight at the kill go unanswered");
    }
}
