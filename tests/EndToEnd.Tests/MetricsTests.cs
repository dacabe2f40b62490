namespace EndToEnd.Tests;

/// <summary>
/// Run alone: OpenTelemetry's meter provider listens process-wide to every meter of a given name, so while
/// another test class's API host lives in this process, this host's /metrics also exports that host's
/// instruments (a compose run once showed registration_outbox_lag_seconds twice). xunit runs collections
/// that disable parallelisation after the parallel ones, whose fixtures (and hosts) are gone by then.
/// </summary>
[CollectionDefinition(nameof(OneApiHostInProcess), DisableParallelization = true)]
public sealed class OneApiHostInProcess;

/// <summary>The API's Prometheus endpoint after real traffic: registrations, activations by outcome, the outbox backlog.</summary>
[Collection(nameof(OneApiHostInProcess))]
public sealed class MetricsTests(ApiFixture fixture, ITestOutputHelper output) : IClassFixture<ApiFixture>
{
    private static readonly string[] Expected =
    [
        "registration_users_registered_total",
        "registration_activations_total",
        "registration_outbox_pending",
        "registration_outbox_lag_seconds",
    ];

    private readonly HttpClient _client = fixture.CreateClient();

    [Fact]
    public async Task Metrics_AfterARegistrationAndActivations_ShowRegistrationsActivationsByOutcomeAndTheOutboxBacklog()
    {
        // Arrange
        await using var worker = await fixture.StartWorkerAsync();
        var user = await _client.RegisterUserAsync(ApiRequests.UniqueEmail("metrics"));
        var code = (await Eventually.GetAsync(() => fixture.Provider.DeliveredTo(user.Email), e => e.Count > 0, "the activation email"))[0].Code!;

        // Act
        using var wrong = await _client.ActivateAsync(user, ApiRequests.OtherThan(code));
        using var right = await _client.ActivateAsync(user, code);
        var samples = await Eventually.GetAsync(
            ScrapeAsync,
            found => Expected.All(name => found.Any(s => s.Name == name))
                && found.Any(s => s.Is("registration_activations_total", "outcome", "ok")),
            "the metrics on /metrics");

        // Assert
        wrong.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        right.StatusCode.Should().Be(HttpStatusCode.OK);
        foreach (var sample in samples.Where(s => s.Name.StartsWith("registration_", StringComparison.Ordinal)))
        {
            output.WriteLine(sample.Line);
        }

        // At least: the counters are process-wide, and other test classes register and activate in parallel.
        samples.Single(s => s.Name == "registration_users_registered_total").Value.Should().BeGreaterThanOrEqualTo(1);
        samples.Single(s => s.Is("registration_activations_total", "outcome", "invalid")).Value.Should().BeGreaterThanOrEqualTo(1);
        samples.Single(s => s.Is("registration_activations_total", "outcome", "ok")).Value.Should().BeGreaterThanOrEqualTo(1);
        samples.Single(s => s.Name == "registration_outbox_pending").Value.Should().BeGreaterThanOrEqualTo(0);
        samples.Single(s => s.Name == "registration_outbox_lag_seconds").Value.Should().BeGreaterThanOrEqualTo(0);
    }

    private async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync()
    {
        using var response = await _client.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return PrometheusSample.Parse(await response.Content.ReadAsStringAsync());
    }

}
