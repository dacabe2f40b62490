namespace Deployment.Tests;

/// <summary>deploy/prometheus: the alert rules load in Prometheus, and fire on the series they are about (promtool).</summary>
[Trait(ExternalTool.Requires, "promtool")]
public sealed class PrometheusRulesTests
{
    public const string Rules = "deploy/prometheus/alerts.yml";
    public const string RuleTests = "deploy/prometheus/alerts.test.yml";

    private const string InstallHint = "Install it (Debian: `apt-get install prometheus`, which ships promtool).";

    [Fact]
    public void Rules_AreValid()
    {
        var result = ExternalTool.Run("promtool", InstallHint, "check", "rules", Rules);

        result.ExitCode.Should().Be(0, result.ToString());
    }

    [Fact]
    public void Alerts_FireOnTroubleAndStayQuietOnAHealthyService()
    {
        var result = ExternalTool.Run("promtool", InstallHint, "test", "rules", RuleTests);

        result.ExitCode.Should().Be(0, result.ToString());
    }

    [Fact]
    public void EveryMetricAnAlertReads_IsOneTheServicesExport()
    {
        var compose = ComposeFile.LoadWithDefaults();
        var exported = ServiceBuild.Instruments(compose.Service(ServiceNames.Api).Environment, compose.Service(ServiceNames.Worker).Environment)
            .SelectMany(instrument => instrument.PrometheusNames)
            .ToHashSet(StringComparer.Ordinal);
        var read = System.Text.RegularExpressions.Regex.Matches(Repository.ReadText(Rules), @"\b(?:registration|notification)_[a-z0-9_]+\b(?!\s*=)")
            .Select(m => m.Value)
            .Distinct()
            .ToArray();

        exported.Should().Contain("registration_outbox_lag_seconds", "the instruments are found and named as Prometheus shows them");
        read.Should().NotBeEmpty();
        read.Should().BeSubsetOf(exported, "an alert on a metric nobody exports never fires");
        // Besides the services' own meters, the rules read ASP.NET Core's request histogram and RabbitMQ's
        // Prometheus plugin (per-object metrics on), which are not the services' to define.
        System.Text.RegularExpressions.Regex.Matches(Repository.ReadText(Rules), @"\b(?:http|rabbitmq)_[a-z0-9_]+\b(?!\s*=)").Select(m => m.Value).Distinct()
            .Should().BeSubsetOf(["http_server_request_duration_seconds_count", "rabbitmq_queue_consumers", "rabbitmq_queue_messages_ready"]);
    }

    [Fact]
    public void EveryAlert_IsTestedAndPointsAtTheDocumentation()
    {
        var rules = Repository.ReadText(Rules);
        var tests = Repository.ReadText(RuleTests);
        var alerts = System.Text.RegularExpressions.Regex.Matches(rules, @"- alert: (\w+)").Select(m => m.Groups[1].Value).Distinct().ToArray();

        alerts.Should().NotBeEmpty();
        foreach (var alert in alerts)
        {
            tests.Should().Contain($"alertname: {alert}", $"{alert} has a promtool test, or at least one that shows it quiet");
        }

        rules.Should().Contain("docs/scaling.md");
        Repository.Exists("docs/scaling.md").Should().BeTrue();
    }
}
