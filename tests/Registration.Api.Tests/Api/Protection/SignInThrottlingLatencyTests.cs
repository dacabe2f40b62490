using System.Diagnostics;
using System.Globalization;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// What throttling costs, over real sockets with bcrypt at a realistic cost: a wrong password costs one bcrypt
/// run whether or not the account exists, and a refused sign-in none (counted on the API's bcrypt-duration
/// instrument), so it stays cheap however many a client sends. The latencies are printed for the record.
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
    public async Task AThrottledSignIn_RunsNoBcrypt_AndAWrongPasswordRunsOne_KnownOrUnknown()
    {
        using var bcryptRuns = new InstrumentMeasurements(factory.Api.Services, "Registration.Api", "registration.password_hashing.duration");
        var known = await factory.CreateClient().From(ClientAddresses.Next()).RegisterUserAsync();
        var (knownLatencies, unknownLatencies) = (new LatencyStats(), new LatencyStats());
        var runsBefore = bcryptRuns.Count;
        for (var attempt = 0; attempt < Unthrottled; attempt++)
        {
            // A new client each time: none of these is throttled.
            var (email, latencies) = attempt % 2 == 0 ? (known.Email, knownLatencies) : (ApiRequests.UniqueEmail("nobody"), unknownLatencies);
            (await TimedSignInAsync(factory.CreateClient().From(ClientAddresses.Next()), email, latencies)).Should().Be(HttpStatusCode.Unauthorized);
        }

        var runsForWrongPasswords = bcryptRuns.Count - runsBefore;
        var attacker = factory.CreateClient().From(ClientAddresses.Next());
        for (var attempt = 0; attempt < MaxFailedSignIns; attempt++)
        {
            (await TimedSignInAsync(attacker, known.Email, new LatencyStats())).Should().Be(HttpStatusCode.Unauthorized);
        }

        var throttledLatencies = new LatencyStats();
        var throttledStatuses = new List<HttpStatusCode>();
        runsBefore = bcryptRuns.Count;
        for (var attempt = 0; attempt < Throttled; attempt++)
        {
            throttledStatuses.Add(await TimedSignInAsync(attacker, known.Email, throttledLatencies));
        }

        var runsForThrottled = bcryptRuns.Count - runsBefore;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            bcrypt work factor {RealisticBcryptApi.WorkFactor}, Kestrel, one request at a time, {Environment.ProcessorCount} CPUs.
            Wrong password, known email: {knownLatencies.Summary()}.
            Wrong password, unknown email: {unknownLatencies.Summary()}.
            bcrypt runs for those {Unthrottled} wrong sign-ins: {runsForWrongPasswords}.
            Refused after {MaxFailedSignIns} failures ({Tally.Of(throttledStatuses)}): {throttledLatencies.Summary()}; bcrypt runs: {runsForThrottled}.
            """));
        runsForWrongPasswords.Should().Be(Unthrottled, "one bcrypt run per wrong sign-in, whether or not the account exists");
        throttledStatuses.Should().OnlyContain(status => status == HttpStatusCode.TooManyRequests);
        runsForThrottled.Should().Be(0, "a refused sign-in is answered before bcrypt");
    }

    private static async Task<HttpStatusCode> TimedSignInAsync(HttpClient client, string email, LatencyStats latencies)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetMeAsync(BasicAuth.Header(email, "not the password"));
        await response.Content.ReadAsStringAsync();
        latencies.AddElapsed(started, Stopwatch.GetTimestamp());
        return response.StatusCode;
    }
}
