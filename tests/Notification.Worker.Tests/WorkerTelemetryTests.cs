using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Notification.Worker.Infrastructure;
using Registration.Testing.Client;
using Registration.Testing.Servers;

namespace Notification.Worker.Tests;

/// <summary>The worker's /health/live, /health/ready and /metrics on Telemetry:Port.</summary>
public sealed class WorkerTelemetryTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task Live_AndReady_Answer200_WithTheDatabaseAndTheBrokerChecked()
    {
        var port = FreePort.Next();
        await using var worker = await Environment.StartWorkerAsync(settings => settings.TelemetryPort(port));
        using var client = Client(port);

        var live = await client.GetHealthAsync("/health/live");
        var ready = await client.GetHealthAsync("/health/ready");

        live.StatusCode.Should().Be(HttpStatusCode.OK);
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
        var checks = Checks(ready.Body);
        checks.Should().ContainKey("postgres").WhoseValue.Should().Be("Healthy");
        checks.Should().Contain(check => check.Key.Contains("masstransit", StringComparison.OrdinalIgnoreCase) && check.Value == "Healthy");
    }

    [Fact]
    public async Task Ready_Answers503_WhileTheBrokerIsCut_LiveStays200_AndReadyRecovers()
    {
        var port = FreePort.Next();
        await using var worker = await Environment.StartWorkerAsync(settings => settings.BrokerVia(Environment.BrokerProxy).TelemetryPort(port));
        using var client = Client(port);
        await Eventually.GetAsync(() => client.GetHealthAsync("/health/ready"), answer => answer.IsHealthy, "ready before the cut");

        await Environment.BrokerProxy.TurnOffAsync();
        var unready = await Eventually.GetAsync(
            () => client.GetHealthAsync("/health/ready"), answer => answer.StatusCode == HttpStatusCode.ServiceUnavailable, "not ready without the broker");
        var live = await client.GetHealthAsync("/health/live");
        Environment.BrokerProxy.TurnOn();

        using (var problem = JsonDocument.Parse(unready.Body))
        {
            problem.RootElement.GetProperty("type").GetString().Should().Be("/problems/unavailable");
            problem.RootElement.GetProperty("status").GetInt32().Should().Be(503);
        }

        Checks(unready.Body).Should().Contain(check => check.Key.Contains("masstransit", StringComparison.OrdinalIgnoreCase) && check.Value != "Healthy");
        Checks(unready.Body)["postgres"].Should().Be("Healthy");
        live.StatusCode.Should().Be(HttpStatusCode.OK, "the process is alive; restarting it would not bring the broker back");
        await Eventually.GetAsync(() => client.GetHealthAsync("/health/ready"), answer => answer.IsHealthy, "ready again with the broker", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Ready_Answers503_WhileTheDatabaseIsCut()
    {
        var port = FreePort.Next();
        await using var worker = await Environment.StartWorkerAsync(settings => settings
            .Database(Environment.ConnectionStringVia(Environment.PostgresProxy, connection => { connection.Timeout = 2; connection.CommandTimeout = 2; }))
            .TelemetryPort(port));
        using var client = Client(port);
        await Eventually.GetAsync(() => client.GetHealthAsync("/health/ready"), answer => answer.IsHealthy, "ready before the cut");

        await Environment.PostgresProxy.TurnOffAsync();
        var unready = await Eventually.GetAsync(
            () => client.GetHealthAsync("/health/ready"), answer => answer.StatusCode == HttpStatusCode.ServiceUnavailable, "not ready without the database");
        Environment.PostgresProxy.TurnOn();

        Checks(unready.Body)["postgres"].Should().NotBe("Healthy");
        unready.Body.Should().NotContain("Exception").And.NotContain("127.0.0.1", "the answer names no internals");
    }

    [Fact]
    public async Task TheWorkerProcess_ServesPrometheusText_WithEveryOutcomeSeriesAtZeroFromTheStart()
    {
        // The binary as it runs in production (Telemetry__PrometheusPort=19464 used to make it exit 134 at start),
        // alone in its process: the meters are process-wide, other workers of this test run would count too.
        var port = FreePort.Next();
        await using var worker = await Environment.StartWorkerProcessAsync(settings => settings.TelemetryPort(port));
        using var client = Client(port);

        var atStart = await PrometheusSample.ScrapeAsync(client);

        string[] outcomes =
        [
            "notification_emails_sent_total", "notification_emails_expired_before_delivery_total", "notification_emails_duplicates_skipped_total",
            "notification_emails_superseded_total", "notification_emails_deferred_total",
        ];
        foreach (var name in outcomes)
        {
            atStart.Should().ContainSingle(sample => sample.Name == name, "a rate over a series that appears with its first event misses that event")
                .Which.Value.Should().Be(0);
        }

        atStart.Where(sample => sample.Name == "notification_emails_failed_total").Select(sample => (sample.Labels["kind"], sample.Value))
            .Should().BeEquivalentTo([("transient", 0.0), ("permanent", 0.0)]);

        var messageId = Guid.NewGuid();
        await Broker.PublishAsync(Environment.VirtualHost, TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        await Environment.Database.WaitForOutcomeAsync(messageId, "sent");
        var samples = await Eventually.GetAsync(
            () => PrometheusSample.ScrapeAsync(client),
            found => found.Any(sample => sample.Name == "notification_emails_sent_total" && sample.Value == 1),
            "the sent email on /metrics");

        samples.Should().Contain(sample => sample.Name == "notification_provider_duration_seconds_count" && sample.Value == 1);
        (await client.GetHealthAsync("/health/live")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Port0_ServesNothing()
    {
        await using var worker = await Environment.StartWorkerAsync(settings => settings.TelemetryPort(0));

        worker.Services.GetServices<IHostedService>().OfType<TelemetryServer>().Should().BeEmpty();
    }

    private static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

    private static Dictionary<string, string?> Checks(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("checks").EnumerateObject()
            .ToDictionary(check => check.Name, check => check.Value.GetProperty("status").GetString());
    }
}
