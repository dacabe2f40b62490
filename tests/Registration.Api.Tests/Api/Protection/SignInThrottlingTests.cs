namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// Sign-in throttling on every Basic-auth route (design, "Abuse limits"): after
/// <c>Security:MaxFailedSignIns</c> consecutive wrong passwords for one email from one client, that client gets
/// 429 <c>too-many-requests</c> for that email, answered before bcrypt, with a back-off doubling from 1 to 15
/// minutes; past <c>Security:MaxFailedSignInsPerAccountPerHour</c> failures from all clients, every client gets
/// 429 for it until the hour passes. A client is an IPv4 address or an IPv6 /64, named here through
/// X-Forwarded-For from the trusted loopback proxy.
/// </summary>
public sealed class SignInThrottlingTests(SignInThrottlingTests.ThrottledKestrelApi factory, ITestOutputHelper output)
    : IClassFixture<SignInThrottlingTests.ThrottledKestrelApi>
{
    private const int MaxFailedSignIns = 10;

    /// <summary>Kestrel, loopback trusted as the reverse proxy, the default throttling limits.</summary>
    public sealed class ThrottledKestrelApi : KestrelApiFixture
    {
        protected override void Configure(TestSettings settings) => settings.TrustLoopbackProxy();
    }

    [Fact]
    public async Task TheEleventhSignIn_AfterTenWrongPasswords_IsRefusedWithRetryAfter_EvenWithTheRightPassword()
    {
        var client = factory.CreateClient().At(ClientAddresses.Next());
        var user = await client.RegisterUserAsync();
        var wrongAnswers = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < MaxFailedSignIns; attempt++)
        {
            using var wrong = await client.GetMeAsync(BasicAuth.Header(user.Email, "not the password"));
            wrongAnswers.Add(wrong.StatusCode);
        }

        using var eleventh = await client.GetMeAsync(user.Credentials);

        output.WriteLine($"{MaxFailedSignIns} wrong passwords: {Tally.Of(wrongAnswers)}; the 11th sign-in, right password: {(int)eleventh.StatusCode}");
        wrongAnswers.Should().OnlyContain(status => status == HttpStatusCode.Unauthorized);
        await eleventh.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
        eleventh.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromMinutes(1));
    }
}
