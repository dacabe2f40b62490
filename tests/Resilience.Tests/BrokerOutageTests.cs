using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace Resilience.Tests;

/// <summary>
/// Scenario 1. RabbitMQ unreachable for the API and the worker (a proxy in front of the broker, cut):
/// registrations still answer 201 at normal speed, their outbox rows wait; once the broker is back every
/// user is emailed, once.
/// </summary>
public sealed class BrokerOutageTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    private const int Users = 50;
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Registrations_DuringABrokerOutage_AreAllEmailedOnce_WhenItIsBack()
    {
        await using var api = await environment.StartApiAsync(settings => settings.BrokerVia(environment.BrokerProxy).Outbox(publishTimeout: TimeSpan.FromSeconds(1)));
        await environment.StartWorkerAsync(settings => settings.BrokerVia(environment.BrokerProxy));
        using var client = api.CreateApiClient();

        await environment.BrokerProxy.TurnOffAsync();
        output.WriteLine($"Broker cut off for the API and the worker; registering {Users} users.");

        var users = new List<TestUser>();
        var latencies = new List<TimeSpan>();
        for (var i = 0; i < Users; i++)
        {
            var user = TestUser.New("outage");
            var stopwatch = Stopwatch.StartNew();
            using var response = await client.RegisterAsync(user);
            latencies.Add(stopwatch.Elapsed);
            response.StatusCode.Should().Be(HttpStatusCode.Created, "a broker outage never fails a registration");
            users.Add(user);
        }

        latencies.Sort();
        output.WriteLine($"All {Users} answered 201: latency p50 {Ms(latencies[latencies.Count / 2])}, max {Ms(latencies[^1])}.");
        latencies.Should().OnlyContain(latency => latency < TimeSpan.FromSeconds(2), "a registration never waits for the broker");

        var waiting = await Eventually.GetAsync(
            environment.Database.GetOutboxStateAsync,
            outbox => outbox.FailedAndWaiting == Users,
            "the dispatcher tries every row and the broker refuses it",
            TimeSpan.FromSeconds(20));
        output.WriteLine($"During the outage: {waiting.Rows} outbox rows, {waiting.Dispatched} dispatched, {waiting.FailedAttempts} failed publish attempts.");
        environment.Provider.Requests.Should().BeEmpty("nothing can reach the worker while the broker is away");
        using (var ready = await Eventually.GetAsync(
            () => client.GetAsync("/health/ready"), response => response.StatusCode == HttpStatusCode.ServiceUnavailable,
            "readiness reports the broker outage", TimeSpan.FromSeconds(20)))
        using (var live = await client.GetAsync("/health/live"))
        {
            live.StatusCode.Should().Be(HttpStatusCode.OK);
            output.WriteLine($"/health/ready {(int)ready.StatusCode} (the broker does not answer), /health/live {(int)live.StatusCode}; sign-ups were accepted all the same.");
        }

        var restored = Stopwatch.StartNew();
        environment.BrokerProxy.TurnOn();
        output.WriteLine("Broker reachable again.");

        await Deliveries.WaitForAllAsync(users, environment.Provider, environment.Database, RecoveryTimeout);
        output.WriteLine($"Every user emailed {restored.Elapsed.TotalSeconds:0.0} s after the broker came back.");
        // A duplicate would come from a message handled twice: count once every message is handled.
        await Eventually.HoldsAsync(
            async () => await environment.Database.CountUnprocessedMessagesAsync() == 0,
            "the worker recorded every message as processed",
            TimeSpan.FromSeconds(20));
        var counts = await Deliveries.CountAsync(users, environment.Provider, environment.Database);
        output.WriteLine($"Counts: {counts}.");

        counts.Lost.Should().Be(0);
        counts.Duplicated.Should().Be(0, "no message was in flight when the broker went away");
    }

    private static string Ms(TimeSpan value) => $"{value.TotalMilliseconds:0} ms";
}
