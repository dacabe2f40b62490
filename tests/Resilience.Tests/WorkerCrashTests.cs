using System.Diagnostics;

namespace Resilience.Tests;

/// <summary>
/// Scenario 2. A worker process is SIGKILLed in the middle of a burst: the messages it held unacked go
/// back to the queue, a new worker process takes them, and every user is emailed. What can be
/// duplicated is what the killed worker had sent but not yet recorded (at most its in-flight sends).
/// </summary>
public sealed class WorkerCrashTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    private const int Users = 200;
    private const int KillAfterDelivered = 60;
    private const int Concurrency = 4;
    private const int Prefetch = 8;

    [Fact]
    public async Task EveryEmailArrives_WhenAWorkerIsKilledMidBurst_AndANewOneTakesOver()
    {
        // Codes must not expire on the child processes' wall clock while the scenario runs.
        await using var api = await environment.StartApiAsync(settings => settings.CodeLifetime(TimeSpan.FromMinutes(30)), TimeProvider.System);
        using var client = api.CreateApiClient();
        // A provider that takes 50 ms per email: the burst is still being sent when the kill comes.
        environment.Provider.Accept(delay: TimeSpan.FromMilliseconds(50));
        var first = await environment.StartWorkerProcessAsync(settings => settings.Consumers(Concurrency, Prefetch));
        output.WriteLine($"Worker process {first.Id} consuming (concurrency {Concurrency}, prefetch {Prefetch}); registering {Users} users.");

        var users = Enumerable.Range(0, Users).Select(_ => TestUser.New("crash")).ToList();
        var burst = Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (user, _) =>
        {
            using var response = await client.RegisterAsync(user);
            response.StatusCode.Should().Be(HttpStatusCode.Created);
        });

        await Eventually.HoldsAsync(
            () => environment.Provider.Delivered.Count >= KillAfterDelivered,
            $"the first worker emails {KillAfterDelivered} users",
            TimeSpan.FromSeconds(60));
        first.Kill();
        var deliveredAtKill = environment.Provider.Delivered.Count;
        output.WriteLine($"SIGKILL sent to worker process {first.Id} after {deliveredAtKill} emails.");
        await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        // The new worker counts as started once the queue has one consumer more than before it: the broker must
        // have dropped the dead worker's consumer first, or it could drop it just as the new one joins and the
        // count would never rise (seen once under load: "worker-process-2 consumes" timed out).
        await Eventually.HoldsAsync(
            async () => (await Broker.InspectAsync(environment.VirtualHost, Broker.ActivationEmailQueue))?.Consumers == 0,
            "the broker dropped the killed worker's consumer");

        await burst;
        output.WriteLine($"All {Users} registrations answered 201.");

        var restarted = Stopwatch.StartNew();
        var second = await environment.StartWorkerProcessAsync(settings => settings.Consumers(Concurrency, Prefetch));
        output.WriteLine($"Worker process {second.Id} started and consuming after {restarted.Elapsed.TotalSeconds:0.0} s.");

        await Deliveries.WaitForAllAsync(users, environment.Provider, environment.Database, TimeSpan.FromSeconds(90));
        await Eventually.HoldsAsync(
            async () => await environment.Database.CountUnprocessedMessagesAsync() == 0,
            "the new worker recorded every message as processed",
            TimeSpan.FromSeconds(30));
        var counts = await Deliveries.CountAsync(users, environment.Provider, environment.Database);
        output.WriteLine($"Every user emailed {restarted.Elapsed.TotalSeconds:0.0} s after the restart.");
        output.WriteLine($"Counts: {counts}.");

        counts.Lost.Should().Be(0);
        counts.Duplicated.Should().BeLessThanOrEqualTo(Concurrency + Prefetch, "only sends in flight at the kill can be repeated");
    }
}
