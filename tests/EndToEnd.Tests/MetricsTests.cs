using System.Globalization;
using System.Net;
using EndToEnd.Tests.Support;
using FluentAssertions;
using Xunit.Abstractions;

namespace EndToEnd.Tests;

/// <summary>The API's Prometheus endpoint after real traffic: registrations, activations by outcome, the outbox backlog.</summary>
public sealed class MetricsTests(EndToEndEnvironment environment, ITestOutputHelper output) : IClassFixture<EndToEndEnvironment>
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
        await using var worker = await environment.StartWorkerAsync();
        var email = RegistrationApi.NewEmail("metrics");
        await environment.Client.RegisterAsync(email);
        var code = (await Eventually.GetAsync(() => environment.Provider.DeliveredTo(email), e => e.Count > 0, "the activation email"))[0].Code!;

        // Act
        using var wrong = await environment.Client.ActivateAsync(email, OtherThan(code));
        using var right = await environment.Client.ActivateAsync(email, code);
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
        using var response = await environment.Client.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return PrometheusSample.Parse(await response.Content.ReadAsStringAsync());
    }

    private static string OtherThan(string code) =>
        ((int.Parse(code, CultureInfo.InvariantCulture) + 1) % 10_000).ToString("D4", CultureInfo.InvariantCulture);
}
