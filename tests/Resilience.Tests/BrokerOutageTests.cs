using System.Diagnostics;
using Registration.Contracts.V1;

namespace Resilience.Tests;

/// <summary>
/// Scenario 1. RabbitMQ unreachable for the API and the worker (a proxy in front of the broker, cut):
/// registrations still answer 201 at normal speed, their outbox rows are tried and wait, readiness
/// reports the outage; once the broker is back readiness recovers and every row is published and every
/// user emailed: once, unless a publish went unconfirmed (then the outbox publishes again, at least once
/// by design), and never more often than the broker has copies.
/// </summary>
public sealed class BrokerOutageTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    private const int Users = 50;
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Registrations_DuringABrokerOutage_AreAllPublishedAndEmailed_WhenItIsBack()
    {
        // Publishes time out after a second, so the outage is noticed in seconds, not minutes.
        await using var api = await environment.StartApiAsync(settings => settings.BrokerVia(environment.BrokerProxy).Outbox(publishTimeout: TimeSpan.FromSeconds(1)));
        await using var worker = await environment.StartWorkerAsync(settings => settings.BrokerVia(environment.BrokerProxy));
        await using var tap = await ExchangeTap.BindAsync(environment.VirtualHost, Broker.ExchangeOf<UserRegistered>());
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

        var rowIds = new List<Guid>();
        foreach (var user in users)
        {
            rowIds.Add((await environment.Database.GetOutboxMessagesAsync(user.Id)).Single().Id);
        }

        // Tried and refused, not merely not tried yet.
        var waiting = await Eventually.GetAsync(
            environment.Database.GetOutboxStateAsync, outbox => outbox.FailedAndWaiting == Users, "the dispatcher tries every row and the broker refuses it");
        output.WriteLine($"During the outage: {waiting.Rows} outbox rows, {waiting.Dispatched} dispatched, {waiting.FailedAttempts} failed publish attempts.");
        (await tap.ReadAsync()).Should().BeEmpty("nothing is published while the broker is unreachable");
        environment.Provider.Requests.Should().BeEmpty("nothing can reach the worker while the broker is away");
        using (var ready = await Eventually.GetAsync(
            () => client.GetAsync("/health/ready"), response => response.StatusCode == HttpStatusCode.ServiceUnavailable, "readiness reports the broker outage"))
        using (var live = await client.GetAsync("/health/live"))
        {
            await ready.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "/problems/unavailable");
            live.StatusCode.Should().Be(HttpStatusCode.OK, "the process itself is fine");
            output.WriteLine($"/health/ready {(int)ready.StatusCode} (the broker does not answer), /health/live {(int)live.StatusCode}; sign-ups were accepted all the same.");
        }

        // Act: the broker comes back.
        var failedBefore = (await environment.Database.GetOutboxMessagesByIdAsync(rowIds)).ToDictionary(row => row.Id, row => row.Attempts);
        var restored = Stopwatch.StartNew();
        environment.BrokerProxy.TurnOn();
        output.WriteLine("Broker reachable again.");

        var rows = await Eventually.GetAsync(
            () => environment.Database.GetOutboxMessagesByIdAsync(rowIds), found => found.All(row => row.DispatchedAt is not null),
            "every row is dispatched after the broker is back", RecoveryTimeout);
        await Eventually.GetAsync(() => client.GetHealthAsync("/health/ready"), answer => answer.IsHealthy, "readiness recovers with the broker", RecoveryTimeout);
        // A row is marked dispatched once the broker confirmed it: every copy ever published is in the tap's queue now.
        var copies = (await tap.ReadAsync()).GroupBy(message => Guid.Parse(message.MessageId!)).ToDictionary(group => group.Key, group => group.Count());
        // Every copy handled by the worker: no email can still be on its way.
        await Eventually.HoldsAsync(
            () => rowIds.All(id => worker.Events.Completed(id) == copies.GetValueOrDefault(id)), "the worker handled every copy", RecoveryTimeout);
        var counts = await Deliveries.CountAsync(users, environment.Provider, environment.Database);
        var republished = rows.Where(row => copies.GetValueOrDefault(row.Id) > 1).ToList();
        output.WriteLine($"Every user emailed {restored.Elapsed.TotalSeconds:0.0} s after the broker came back; {republished.Count} rows published twice. Counts: {counts}.");

        // Assert
        copies.Keys.Should().BeEquivalentTo(rowIds, "every row is published");
        republished.Where(row => row.Attempts <= failedBefore[row.Id]).Should().BeEmpty(
            "a row is published again only after a publish that went unconfirmed once the broker was back");
        counts.Lost.Should().Be(0);
        foreach (var row in rows)
        {
            environment.Provider.Delivered.Count(email => email.IsFor(row.Id)).Should().BeLessThanOrEqualTo(
                copies[row.Id], "a message is emailed at most once per copy the broker has of it, once when it has one");
        }
    }

    private static string Ms(TimeSpan value) => $"{value.TotalMilliseconds:0} ms";
}
