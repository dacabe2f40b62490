using System.Text.Json;

namespace Registration.Api.Tests.Api;

/// <summary>/health/live and /health/ready with PostgreSQL and RabbitMQ up (the broker outage: BrokerOutageTests).</summary>
public sealed class HealthTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task Live_ReturnsOk()
    {
        using var response = await Client.GetAsync("/health/live");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Ready_ReturnsOkAndHealthy_WithPostgresAndRabbitMqChecked_WhenBothAnswer()
    {
        // The bus connects in the background after start-up: readiness may take a moment to turn healthy.
        var ready = await Eventually.GetAsync(
            () => Client.GetHealthAsync("/health/ready"),
            answer => answer.IsHealthy,
            "/health/ready answers 200 Healthy",
            TimeSpan.FromSeconds(20));

        var checks = JsonDocument.Parse(ready.Body).RootElement.GetProperty("checks").EnumerateObject()
            .ToDictionary(check => check.Name, check => check.Value.GetProperty("status").GetString());
        checks.Should().ContainKey("postgres");
        checks.Keys.Should().Contain(name => name.Contains("masstransit", StringComparison.OrdinalIgnoreCase), "readiness includes the broker");
        checks.Values.Should().OnlyContain(status => status == "Healthy");
    }
}
