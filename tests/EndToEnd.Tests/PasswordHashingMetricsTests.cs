namespace EndToEnd.Tests;

/// <summary>
/// What an operator reads on /metrics about bcrypt, under the names Prometheus renders: which
/// implementation runs (a label) and how long a run takes.
/// </summary>
[Collection(nameof(OneApiHostInProcess))]
public sealed class PasswordHashingMetricsTests(ApiFixture fixture, ITestOutputHelper output) : IClassFixture<ApiFixture>
{
    private readonly HttpClient _client = fixture.CreateClient();

    [Fact]
    public async Task Metrics_NameTheBcryptImplementation_AndTimeItsRuns()
    {
        await _client.RegisterUserAsync(ApiRequests.UniqueEmail("metrics"));

        var samples = await ScrapeAsync();

        foreach (var sample in samples.Where(s => s.Name.StartsWith("registration_password_hashing", StringComparison.Ordinal)))
        {
            output.WriteLine(sample.Line);
        }

        // This system has libxcrypt, so Auto picks it.
        samples.Single(s => s.Name == "registration_password_hashing_implementation").Should().Match<PrometheusSample>(
            s => s.Labels["implementation"] == "native" && s.Value == 1);
        samples.Single(s => s.Is("registration_password_hashing_duration_seconds_count", "implementation", "native"))
            .Value.Should().BeGreaterThanOrEqualTo(1, "the registration ran bcrypt once");
    }

    private async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync()
    {
        using var response = await _client.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return PrometheusSample.Parse(await response.Content.ReadAsStringAsync());
    }
}
