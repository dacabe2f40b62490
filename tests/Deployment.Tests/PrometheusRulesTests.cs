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
