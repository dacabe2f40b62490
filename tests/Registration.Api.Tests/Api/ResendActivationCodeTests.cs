namespace Registration.Api.Tests.Api;

/// <summary>POST /v1/users/me/activation-code: 202 with expiresAt, 401, 409 already-active, 429 resend-too-soon.</summary>
public sealed class ResendActivationCodeTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task Resend_ReturnsAcceptedWithExpiresAt_AndIssuesANewCode()
    {
        var (user, first) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var response = await Client.RequestNewCodeAsync(user);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var body = await response.ReadJsonAsync();
        body.EnumerateObject().Select(property => property.Name).Should().Equal("expiresAt");
        body.GetProperty("expiresAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow() + ActivationDefaults.CodeLifetime);
        var current = await Environment.Database.GetCurrentCodeAsync(user.Id);
        current.Id.Should().NotBe(first.Id);
        (await Environment.Database.GetCodesAsync(user.Id)).Should().HaveCount(2);
    }

    [Fact]
    public async Task Resend_ReturnsTooSoonWithRetryAfter_WhenRightAfterRegistration()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.RequestNewCodeAsync(user);

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/resend-too-soon");
        RetryAfterSeconds(response).Should().Be(30);
        (await Environment.Database.GetCodesAsync(user.Id)).Should().ContainSingle("a refused resend issues nothing");
    }

    [Theory]
    [InlineData(10_000, 20)]
    [InlineData(10_500, 20)] // 19.5 s left: rounded up
    [InlineData(29_000, 1)]
    [InlineData(29_999, 1)] // never "0"
    public async Task Resend_ReturnsRetryAfterInWholeSecondsLeft_MatchingTheClock(int elapsedMilliseconds, int expectedSeconds)
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(TimeSpan.FromMilliseconds(elapsedMilliseconds));

        using var response = await Client.RequestNewCodeAsync(user);

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/resend-too-soon");
        RetryAfterSeconds(response).Should().Be(expectedSeconds);
    }

    [Fact]
    public async Task Resend_IsAccepted_ExactlyWhenTheCooldownSinceRegistrationHasPassed()
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown - TimeSpan.FromMilliseconds(1));
        using var tooSoon = await Client.RequestNewCodeAsync(user);
        Environment.Clock.Advance(TimeSpan.FromMilliseconds(1));

        using var response = await Client.RequestNewCodeAsync(user);

        tooSoon.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Resend_CountsTheCooldownFromTheLastCodeIssued()
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        (await Client.RequestNewCodeAsync(user)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        Environment.Clock.Advance(TimeSpan.FromSeconds(1));

        using var response = await Client.RequestNewCodeAsync(user);

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/resend-too-soon");
        RetryAfterSeconds(response).Should().Be(29);
    }

    [Fact]
    public async Task Resend_ReplacesAnExpiredCode_WithOneThatActivates()
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(TimeSpan.FromMinutes(10));
        (await Client.ActivateAsync(user, (await Environment.Database.GetCurrentCodeAsync(user.Id)).Code))
            .StatusCode.Should().Be(HttpStatusCode.Gone);

        using var resend = await Client.RequestNewCodeAsync(user);
        using var activation = await Client.ActivateAsync(user, (await Environment.Database.GetCurrentCodeAsync(user.Id)).Code);

        resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Resend_ReturnsAlreadyActive_WhenTheAccountIsActive()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var response = await Client.RequestNewCodeAsync(user);

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/already-active");
    }

    [Fact]
    public async Task Resend_ReturnsUnauthorized_WithoutValidCredentials()
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var none = await Client.RequestNewCodeAsync(credentials: null);
        using var wrongPassword = await Client.RequestNewCodeAsync(BasicAuth.Header(user.Email, "not the password"));

        await none.ShouldBeUnauthorizedAsync();
        await wrongPassword.ShouldBeUnauthorizedAsync();
        (await Environment.Database.GetCodesAsync(user.Id)).Should().ContainSingle();
    }

    [Fact]
    public async Task Resend_WritesAnActivationCodeReissuedOutboxMessage_WithTheNewCode()
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);

        (await Client.RequestNewCodeAsync(user)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var code = await Environment.Database.GetCurrentCodeAsync(user.Id);
        var messages = await Environment.Database.GetOutboxMessagesAsync(user.Id);
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
