using System.Diagnostics;
using System.Globalization;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// What throttling costs, over real sockets with bcrypt at a realistic cost: a refused sign-in is answered from
/// one database look-up, without bcrypt, so it is cheap however many a client sends; a wrong password costs one
/// bcrypt run whether or not the account exists. The numbers are printed for the record.
/// </summary>
public sealed class SignInThrottlingLatencyTests(SignInThrottlingLatencyTests.RealisticBcryptApi factory, ITestOutputHelper output)
    : IClassFixture<SignInThrottlingLatencyTests.RealisticBcryptApi>
{
    private const int MaxFailedSignIns = 10;
    private const int Throttled = 300;
    private const int Unthrottled = 20;

    /// <summary>Kestrel, loopback trusted as the reverse proxy, bcrypt at work factor 10 (tens of milliseconds).</summary>
    public sealed class RealisticBcryptApi : KestrelApiFixture
    {
        public const int WorkFactor = 10;

        protected override void Configure(TestSettings settings) => settings.TrustLoopbackProxy().BcryptWorkFactor(WorkFactor);
    }

    [Fact]
    public async Task AThrottledSignIn_IsAnsweredWithoutBcrypt_AndAWrongPasswordCostsTheSame_KnownOrUnknown()
    {
        var known = await factory.CreateClient().At(ClientAddresses.Next()).RegisterUserAsync();
        var knownLatencies = new List<double>();
        var unknownLatencies = new List<double>();
        for (var attempt = 0; attempt < Unthrottled; attempt++)
        {
            // A new client each time: none of these is throttled.
            var (email, latencies) = attempt % 2 == 0 ? (known.Email, knownLatencies) : (ApiRequests.UniqueEmail("nobody"), unknownLatencies);
            var (status, elapsed) = await TimedSignInAsync(factory.CreateClient().At(ClientAddresses.Next()), email);
            status.Should().Be(HttpStatusCode.Unauthorized);
            latencies.Add(elapsed);
        }

        var attacker = factory.CreateClient().At(ClientAddresses.Next());
        for (var attempt = 0; attempt < MaxFailedSignIns; attempt++)
        {
            (await TimedSignInAsync(attacker, known.Email)).Status.Should().Be(HttpStatusCode.Unauthorized);
        }

        var throttledLatencies = new List<double>();
        var throttledStatuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < Throttled; attempt++)
        {
            var (status, elapsed) = await TimedSignInAsync(attacker, known.Email);
            throttledStatuses.Add(status);
            throttledLatencies.Add(elapsed);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            bcrypt work factor {RealisticBcryptApi.WorkFactor}, Kestrel, one request at a time, {Environment.ProcessorCount} CPUs.
            Wrong password, known email ({knownLatencies.Count}): {Summary(knownLatencies)}.
            Wrong password, unknown email ({unknownLatencies.Count}): {Summary(unknownLatencies)}.
            Refused after {MaxFailedSignIns} failures ({Throttled} requests, {Tally.Of(throttledStatuses)}): {Summary(throttledLatencies)}.
            """));
        throttledStatuses.Should().OnlyContain(status => status == HttpStatusCode.TooManyRequests);
        Percentile(throttledLatencies, 0.5).Should().BeLessThan(
            Percentile(knownLatencies.Concat(unknownLatencies).ToList(), 0.5) / 2, "a refused sign-in does not run bcrypt");
    }

    private static async Task<(HttpStatusCode Status, double Milliseconds)> TimedSignInAsync(HttpClient client, string email)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetMeAsync(BasicAuth.Header(email, "not the password"));
        await response.Content.ReadAsStringAsync();
        return (response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static string Summary(List<double> latencies) => string.Create(
        CultureInfo.InvariantCulture, $"p50 {Percentile(latencies, 0.5):0.0} ms, p99 {Percentile(latencies, 0.99):0.0} ms, max {latencies.Max():0.0} ms");

    private static double Percentile(List<double> latencies, double p)
    {
        var sorted = latencies.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
