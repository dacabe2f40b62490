namespace EndToEnd.Tests;

/// <summary>
/// What an operator reads on /metrics about bcrypt and poison outbox rows, under the names Prometheus
/// renders: which implementation runs (a label), how long a run takes, and how many rows were parked.
/// </summary>
[Collection(nameof(OneApiHostInProcess))]
public sealed class HashingAndParkingMetricsTests(ApiFixture fixture, ITestOutputHelper output) : ApiTest(fixture)
{
    [Fact]
    public async Task Metrics_NameTheBcryptImplementation_TimeItsRuns_AndCountParkedOutboxRows()
    {
        await Client.RegisterUserAsync(ApiRequests.UniqueEmail("metrics"));
        await Environment.Database.InsertOutboxRowAsync("UserRegistered", """{"userId": "not-a-guid"}""");

        var samples = await Eventually.GetAsync(
            () => PrometheusSample.ScrapeAsync(Client),
            found => found.Any(s => s.Is("registration_outbox_parked_total", "reason", "unreadable-payload")),
            "the parked row counted on /metrics");

        foreach (var sample in samples.Where(s => s.Name.StartsWith("registration_password_hashing", StringComparison.Ordinal)
                                                  || s.Name.StartsWith("registration_outbox_parked", StringComparison.Ordinal)))
        {
            output.WriteLine(sample.Line);
        }

        // This system has libxcrypt, so Auto picks it.
        samples.Single(s => s.Name == "registration_password_hashing_implementation").Should().Match<PrometheusSample>(
            s => s.Labels["implementation"] == "native" && s.Value == 1);
        samples.Single(s => s.Is("registration_password_hashing_duration_seconds_count", "implementation", "native"))
            .Value.Should().BeGreaterThanOrEqualTo(1, "the registration ran bcrypt once");
        samples.Single(s => s.Is("registration_outbox_parked_total", "reason", "unreadable-payload")).Value.Should().Be(1);
    }
}
