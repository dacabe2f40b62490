namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// The per-address limits of the design's "Abuse limits", counted in PostgreSQL over a rolling 24 h, across
/// accounts and reasons: at most <c>Activation:MaxCodesPerAddressPerDay</c> codes emailed to one address and
/// <c>Activation:MaxFailedAttemptsPerAddressPerDay</c> wrong codes for it, each refused past the limit with a
/// <c>Retry-After</c> that says when the oldest counted event leaves the window.
/// </summary>
public sealed class AddressLimitTests(ApiFixture factory, ITestOutputHelper output) : IClassFixture<ApiFixture>
{
    private const int MaxFailedAttempts = 5;
    private const int MaxWrongCodesPerAddressPerDay = 20;
    private static readonly TimeSpan ResendCooldown = TimeSpan.FromSeconds(30);

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Activation_RefusesEvenTheRightCode_OnceTwentyWrongCodesWereTriedForTheAddress_AcrossResends()
    {
        // Someone registered an address they do not own and guesses its codes, asking for a new code
        // whenever five wrong tries lock the current one (issue 11: before, the 21st try with the right
        // code activated the account).
        var squatter = await _client.RegisterUserAsync(ApiRequests.UniqueEmail("not-mine"));
        var wrongAnswers = new List<HttpStatusCode>();
        var firstWrongAt = factory.Clock.GetUtcNow();
        for (var round = 0; round < MaxWrongCodesPerAddressPerDay / MaxFailedAttempts; round++)
        {
            var code = (await factory.Database.GetCurrentCodeAsync(squatter.Id)).Code;
            for (var guess = 0; guess < MaxFailedAttempts; guess++)
            {
                using var wrong = await _client.ActivateAsync(squatter, ApiRequests.OtherThan(code));
                wrongAnswers.Add(wrong.StatusCode);
            }

            factory.Clock.Advance(ResendCooldown);
            using var resend = await _client.RequestNewCodeAsync(squatter);
            resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        var rightCode = (await factory.Database.GetCurrentCodeAsync(squatter.Id)).Code;
        using var right = await _client.ActivateAsync(squatter, rightCode);

        output.WriteLine($"{wrongAnswers.Count} wrong codes over {MaxWrongCodesPerAddressPerDay / MaxFailedAttempts} codes: {Tally.Of(wrongAnswers)}; then the right code of a fresh one: {(int)right.StatusCode}");
        wrongAnswers.Should().OnlyContain(status => status == HttpStatusCode.UnprocessableEntity);
        await right.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/activation-code-locked");
        right.Headers.RetryAfter!.Delta.Should().Be(
            TimeSpan.FromSeconds(Math.Ceiling((firstWrongAt + TimeSpan.FromDays(1) - factory.Clock.GetUtcNow()).TotalSeconds)),
            "the address unlocks when its oldest counted wrong code leaves the 24 h window");
        (await factory.Database.GetStatusAsync(squatter.Id)).Should().Be("pending");
    }
}
