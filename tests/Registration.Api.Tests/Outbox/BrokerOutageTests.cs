using System.Diagnostics;
using System.Net;

namespace Registration.Api.Tests.Outbox;

/// <summary>
/// RabbitMQ unreachable (cut off by a proxy): registrations still succeed at once, their outbox rows wait,
/// and every one is published exactly once after the broker is back. Readiness reports the outage.
/// </summary>
public sealed class BrokerOutageTests(BrokerOutageTests.BrokerOutageApi factory) : IClassFixture<BrokerOutageTests.BrokerOutageApi>, IAsyncLifetime
{
    /// <summary>The API reaching RabbitMQ through the proxy; publishes time out after a second, failed rows are retried every second.</summary>
    public sealed class BrokerOutageApi : ApiFixture
    {
        protected override void Configure(TestSettings settings) =>
            settings.BrokerVia(BrokerProxy).Outbox(publishTimeout: TimeSpan.FromSeconds(1), maxRetryDelay: TimeSpan.FromSeconds(1));
    }

    private const int Registrations = 5;
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _client = factory.CreateClient();

    public async Task InitializeAsync()
    {
        factory.BrokerProxy.TurnOn();
        // Healthy, not merely 200: a bus that is still connecting answers 200 "Degraded".
        await WaitForReadinessAsync(answer => answer.IsHealthy, "the API is connected to the broker through the proxy");
    }

    // Each test leaves the broker reachable for the next.
    public Task DisposeAsync()
    {
        factory.BrokerProxy.TurnOn();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Register_Succeeds_DuringABrokerOutage_AndEveryRowIsPublishedExactlyOnceWhenItIsBack()
    {
        await using var tap = await ExchangeTap.BindAsync(factory.VirtualHost, Broker.UserRegisteredExchange);
        await factory.BrokerProxy.TurnOffAsync();

        var users = new List<TestUser>();
        for (var i = 0; i < Registrations; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            users.Add(await _client.RegisterUserAsync());
            stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "a registration never waits for the broker");
        }

        var rowIds = new List<Guid>();
        foreach (var user in users)
        {
            rowIds.Add((await factory.Database.GetOutboxMessagesAsync(user.Id)).Should().ContainSingle().Subject.Id);
        }

        // Tried and refused, not merely not tried yet.
        var failed = await Eventually.GetAsync(
            () => factory.Database.GetOutboxMessagesByIdAsync(rowIds),
            rows => rows.All(row => row.Attempts >= 1 || row.DispatchedAt is not null),
            "the dispatcher tries every row during the outage",
            TimeSpan.FromSeconds(15));
        failed.Should().OnlyContain(row => row.DispatchedAt == null, "nothing can be confirmed while the broker is unreachable");
        (await tap.ReadAsync()).Should().BeEmpty();

        factory.BrokerProxy.TurnOn();

        await Eventually.GetAsync(
            () => factory.Database.GetOutboxMessagesByIdAsync(rowIds),
            rows => rows.All(row => row.DispatchedAt is not null),
            "every row is dispatched after the broker is back",
            RecoveryTimeout);
        (await tap.ReadAsync()).Select(message => Guid.Parse(message.MessageId!)).Should().BeEquivalentTo(rowIds, "each row is published exactly once");
    }

    // Un-skip when fixed: MassTransit's bus check reports Degraded (not Unhealthy) while the broker is
    // unreachable, and /health/ready maps Degraded to 200, so readiness stays 200 through the outage.
    [Fact]
    public async Task Ready_ReturnsServiceUnavailable_WhileTheBrokerIsUnreachable_AndOkWhenItIsBack()
    {
        await factory.BrokerProxy.TurnOffAsync();

        await WaitForReadinessAsync(answer => answer.StatusCode == HttpStatusCode.ServiceUnavailable, "readiness reports the broker outage");
        using var down = await _client.GetAsync("/health/ready");
        await down.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "/problems/unavailable");
        using var live = await _client.GetAsync("/health/live");
        live.StatusCode.Should().Be(HttpStatusCode.OK, "the process itself is fine");

        factory.BrokerProxy.TurnOn();

        await WaitForReadinessAsync(answer => answer.IsHealthy, "readiness recovers with the broker");
    }

    private Task<HealthAnswer> WaitForReadinessAsync(Func<HealthAnswer, bool> done, string what) =>
        Eventually.GetAsync(() => _client.GetHealthAsync("/health/ready"), done, what, RecoveryTimeout);
}
