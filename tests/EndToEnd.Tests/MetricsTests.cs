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
public sealed class MetricsTests(ApiFixture fixture, ITestOutputHelper output) : ApiTest(fixture)
{
    private static readonly string[] Expected =
    [
        "registration_users_registered_total",
        "registration_activations_total",
        "registration_outbox_pending",
        "registration_outbox_lag_seconds",
    ];

    [Fact]
    public async Task Metrics_AfterARegistrationAndActivations_ShowRegistrationsActivationsByOutcomeAndTheOutboxBacklog()
    {
        // Arrange
        await using var worker = await Environment.StartWorkerAsync();
        var user = await Client.RegisterUserAsync(ApiRequests.UniqueEmail("metrics"));
        var code = (await Eventually.GetAsync(() => Environment.Provider.DeliveredTo(user.Email), e => e.Count > 0, "the activation email"))[0].Code!;

        // Act
        using var wrong = await Client.ActivateAsync(user, ApiRequests.OtherThan(code));
        using var right = await Client.ActivateAsync(user, code);
        using var me = await Client.GetMeAsync(user);
        var samples = await Eventually.GetAsync(
            () => PrometheusSample.ScrapeAsync(Client),
            // The series exist from the start at 0: wait for the counts of this test's traffic, not their names.
            found => Expected.All(name => found.Any(s => s.Name == name))
                && found.Any(s => s.Is("registration_activations_total", "outcome", "ok") && s.Value >= 1)
                && found.Any(s => s.Is("registration_activations_total", "outcome", "invalid") && s.Value >= 1)
                && found.Any(s => s.Name == "registration_users_registered_total" && s.Value >= 1),
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

        // Route labels as the design writes the routes: no trailing slash.
        var routes = samples.Where(s => s.Labels.ContainsKey("http_route")).Select(s => s.Labels["http_route"]).Distinct().ToList();
        routes.Should().Contain(["/v1/users", "/v1/users/me", "/v1/users/me/activation"]);
        routes.Should().NotContain(route => route.Length > 1 && route.EndsWith('/'));

        // scripts/test.sh runs `promtool check metrics` on this scrape when Prometheus' promtool is installed.
        using var scrape = await Client.GetAsync("/metrics");
        Registration.Testing.Artifacts.Write(Registration.Testing.Artifacts.ApiMetrics, await scrape.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_ShowEveryActivationOutcome_FromTheStart_AtZeroUntilItHappens()
    {
        var samples = await PrometheusSample.ScrapeAsync(Client);

        // This class never has a code expire or lock: those two stay at 0, yet they are there.
        foreach (var outcome in new[] { "ok", "invalid", "expired", "locked" })
        {
            samples.Should().ContainSingle(s => s.Is("registration_activations_total", "outcome", outcome), "the {0} series exists before it happens", outcome);
        }

        samples.Single(s => s.Is("registration_activations_total", "outcome", "expired")).Value.Should().Be(0);
        samples.Single(s => s.Is("registration_activations_total", "outcome", "locked")).Value.Should().Be(0);
        samples.Should().ContainSingle(s => s.Name == "registration_users_registered_total");
        samples.Should().ContainSingle(s => s.Name == "registration_outbox_publish_failures_total");
        samples.Should().ContainSingle(s => s.Name == "registration_requests_rejected_busy_total");
    }
}
