namespace Registration.Api.Tests.Api;

/// <summary>POST /v1/users/me/activation-code: 202 with expiresAt, 401, 409 already-active, 429 resend-too-soon.</summary>
public sealed class ResendActivationCodeTests(ApiFixture factory) : IClassFixture<ApiFixture>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Resend_ReturnsAcceptedWithExpiresAt_AndIssuesANewCode()
    {
        var user = await _client.RegisterUserAsync();
        var first = await factory.Database.GetCurrentCodeAsync(user.Id);
        factory.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var response = await _client.RequestNewCodeAsync(user);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var body = await response.ReadJsonAsync();
        body.EnumerateObject().Select(property => property.Name).Should().Equal("expiresAt");
        body.GetProperty("expiresAt").GetDateTimeOffset().Should().Be(factory.Clock.GetUtcNow() + ActivationDefaults.CodeLifetime);
        var current = await factory.Database.GetCurrentCodeAsync(user.Id);
        current.Id.Should().NotBe(first.Id);
        (await factory.Database.GetCodesAsync(user.Id)).Should().HaveCount(2);
    }

    [Fact]
    public async Task Resend_ReturnsTooSoonWithRetryAfter_WhenRightAfterRegistration()
    {
        var user = await _client.RegisterUserAsync();

        using var response = await _client.RequestNewCodeAsync(user);

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/resend-too-soon");
        RetryAfterSeconds(response).Should().Be(30);
        (await factory.Database.GetCodesAsync(user.Id)).Should().ContainSingle("a refused resend issues nothing");
    }

    [Theory]
    [InlineData(10_000, 20)]
    [InlineData(10_500, 20)] // 19.5 s left: rounded up
    [InlineData(29_000, 1)]
    [InlineData(29_999, 1)] // never "0"
    public async Task Resend_ReturnsRetryAfterInWholeSecondsLeft_MatchingTheClock(int elapsedMilliseconds, int expectedSeconds)
    {
        var user = await _client.RegisterUserAsync();
        factory.Clock.Advance(TimeSpan.FromMilliseconds(elapsedMilliseconds));

        using var response = await _client.RequestNewCodeAsync(user);

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/resend-too-soon");
        RetryAfterSeconds(response).Should().Be(expectedSeconds);
    }

    [Fact]
    public async Task Resend_IsAccepted_ExactlyWhenTheCooldownSinceRegistrationHasPassed()
    {
        var user = await _client.RegisterUserAsync();
        factory.Clock.Advance(ActivationDefaults.ResendCooldown - TimeSpan.FromMilliseconds(1));
        using var tooSoon = await _client.RequestNewCodeAsync(user);
        factory.Clock.Advance(TimeSpan.FromMilliseconds(1));

        using var response = await _client.RequestNewCodeAsync(user);

        tooSoon.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Resend_CountsTheCooldownFromTheLastCodeIssued()
    {
        var user = await _client.RegisterUserAsync();
        factory.Clock.Advance(ActivationDefaults.ResendCooldown);
        (await _client.RequestNewCodeAsync(user)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        factory.Clock.Advance(TimeSpan.FromSeconds(1));

        using var response = await _client.RequestNewCodeAsync(user);

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/resend-too-soon");
        RetryAfterSeconds(response).Should().Be(29);
    }

    [Fact]
    public async Task Resend_ReplacesAnExpiredCode_WithOneThatActivates()
    {
        var user = await _client.RegisterUserAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(10));
        (await _client.ActivateAsync(user, (await factory.Database.GetCurrentCodeAsync(user.Id)).Code))
            .StatusCode.Should().Be(HttpStatusCode.Gone);

        using var resend = await _client.RequestNewCodeAsync(user);
        using var activation = await _client.ActivateAsync(user, (await factory.Database.GetCurrentCodeAsync(user.Id)).Code);

        resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Resend_ReturnsAlreadyActive_WhenTheAccountIsActive()
    {
        var user = await _client.RegisterActiveUserAsync(factory.Database);
        factory.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var response = await _client.RequestNewCodeAsync(user);

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/already-active");
    }

    [Fact]
    public async Task Resend_ReturnsUnauthorized_WithoutValidCredentials()
    {
        var user = await _client.RegisterUserAsync();
        factory.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var none = await _client.RequestNewCodeAsync(credentials: null);
        using var wrongPassword = await _client.RequestNewCodeAsync(BasicAuth.Header(user.Email, "not the password"));

        await none.ShouldBeUnauthorizedAsync();
        await wrongPassword.ShouldBeUnauthorizedAsync();
        (await factory.Database.GetCodesAsync(user.Id)).Should().ContainSingle();
    }

    [Fact]
    public async Task Resend_WritesAnActivationCodeReissuedOutboxMessage_WithTheNewCode()
    {
        var user = await _client.RegisterUserAsync();
        factory.Clock.Advance(ActivationDefaults.ResendCooldown);

        (await _client.RequestNewCodeAsync(user)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var code = await factory.Database.GetCurrentCodeAsync(user.Id);
        var messages = await factory.Database.GetOutboxMessagesAsync(user.Id);
        messages.Select(message => message.MessageType).Should().Equal("UserRegistered", "ActivationCodeReissued");
        var payload = System.Text.Json.JsonDocument.Parse(messages[1].Payload).RootElement;
        payload.GetProperty("activationCode").GetString().Should().Be(code.Code);
        payload.GetProperty("reason").GetString().Should().Be("resend");
    }

    private static int RetryAfterSeconds(HttpResponseMessage response)
    {
        response.Headers.RetryAfter.Should().NotBeNull("a 429 resend-too-soon carries Retry-After");
        response.Headers.RetryAfter!.Delta.Should().NotBeNull("Retry-After is given in seconds");
        return (int)response.Headers.RetryAfter.Delta!.Value.TotalSeconds;
    }
}
