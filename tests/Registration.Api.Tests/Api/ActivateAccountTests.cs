using System.Text;

namespace Registration.Api.Tests.Api;

/// <summary>
/// POST /v1/users/me/activation, in the contract's order of checks: credentials (401), body shape (400),
/// already active (409), code locked (429), code expired (410, whatever value), code wrong (422).
/// </summary>
public sealed class ActivateAccountTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task Activate_ReturnsOkWithActiveUser_WhenCodeIsRight()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        Environment.Clock.Advance(TimeSpan.FromSeconds(5));

        using var response = await Client.ActivateAsync(user, code.Code);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.ReadJsonAsync();
        body.GetProperty("id").GetGuid().Should().Be(user.Id);
        body.GetProperty("status").GetString().Should().Be("active");
        body.GetProperty("activatedAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow());
        body.EnumerateObject().Select(property => property.Name)
            .Should().BeEquivalentTo(ApiRequests.UserBodyProperties);
    }

    [Fact]
    public async Task Activate_KeepsLeadingZeros_WhenTheCodeStartsWithZero()
    {
        var user = await Client.RegisterUserAsync();
        await Environment.Database.ExecuteAsync(
            "UPDATE activation_codes SET code = '0042' WHERE user_id = @UserId", new { UserId = user.Id });

        using var withoutZeros = await Client.ActivateAsync(user, "42");
        using var withZeros = await Client.ActivateAsync(user, "0042");

        await withoutZeros.ShouldBeValidationProblemAsync("code");
        withZeros.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    // 401 comes first: none of these reveal anything about the body, the account or its code.

    [Fact]
    public async Task Activate_ReturnsUnauthorized_WhenPasswordIsWrong_EvenWithAMalformedBody()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.ActivateAsync(BasicAuth.Header(user.Email, "wrong password"), "not a code");

        await response.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task Activate_ReturnsUnauthorized_WhenEmailIsUnknown()
    {
        using var response = await Client.ActivateAsync(BasicAuth.Header(ApiRequests.UniqueEmail(), ApiRequests.DefaultPassword), "1234");

        await response.ShouldBeUnauthorizedAsync();
    }

    [Theory]
    [InlineData("Basic")]
    [InlineData("Basic !!!not-base64!!!")]
    [InlineData("Bearer abc.def.ghi")]
    [InlineData("Basic dXNlckBleGFtcGxlLmNvbQ==")] // "user@example.com": no colon
    [InlineData("Basic //79")] // not UTF-8
    public async Task Activate_ReturnsUnauthorized_WhenTheAuthorizationHeaderIsMalformed(string authorization)
    {
        using var response = await Client.SendWithRawAuthorizationAsync(
            HttpMethod.Post, "/v1/users/me/activation", authorization, ApiRequests.Json("""{"code":"1234"}"""));

        await response.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task Activate_ReturnsUnauthorized_WhenThePasswordIsLongerThan72BytesButStartsWithTheRightOne()
    {
        var password = new string('p', 72);
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database, password: password);

        // bcrypt would ignore the 73rd byte: the API must refuse rather than truncate.
        using var response = await Client.ActivateAsync(BasicAuth.Header(user.Email, password + "x"), code.Code);

        await response.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task Activate_ReturnsUnauthorized_WhenOnlyThe72ndByteOfThePasswordDiffers()
    {
        var password = new string('p', 71) + "a";
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database, password: password);

        using var response = await Client.ActivateAsync(BasicAuth.Header(user.Email, new string('p', 71) + "b"), code.Code);

        await response.ShouldBeUnauthorizedAsync();
    }

    // Then 400 for the body's shape.

    [Theory]
    [InlineData("""{"code":"123"}""")]
    [InlineData("""{"code":"12345"}""")]
    [InlineData("""{"code":"12a4"}""")]
    [InlineData("""{"code":" 1234"}""")]
    [InlineData("""{"code":"١٢٣٤"}""")] // Arabic-Indic digits: digits, but not ASCII
    [InlineData("""{"code":"１２３４"}""")] // full-width digits
    [InlineData("""{"code":""}""")]
    [InlineData("""{"code":null}""")]
    [InlineData("""{}""")]
    public async Task Activate_ReturnsValidationFailed_WhenCodeIsNotExactlyFourAsciiDigits(string json)
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.SendAsync(HttpMethod.Post, "/v1/users/me/activation", user.Credentials, ApiRequests.Json(json));

        await response.ShouldBeValidationProblemAsync("code");
    }

    [Theory]
    [InlineData("""{"code":1234}""", "code")]
    [InlineData("not json", "body")]
    [InlineData("[\"1234\"]", "body")]
    [InlineData("", "body")]
    public async Task Activate_ReturnsValidationFailed_WhenBodyIsNotTheExpectedJson(string json, string field)
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.SendAsync(HttpMethod.Post, "/v1/users/me/activation", user.Credentials, ApiRequests.Json(json));

        await response.ShouldBeValidationProblemAsync(field);
    }

    [Fact]
    public async Task Activate_DoesNotCountAMalformedCodeAsAWrongTry()
    {
        var user = await Client.RegisterUserAsync();

        for (var i = 0; i < 6; i++)
        {
            using var malformed = await Client.ActivateAsync(user, "abc");
            malformed.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }

        var code = await Environment.Database.GetCurrentCodeAsync(user.Id);
        code.FailedAttempts.Should().Be(0);
        using var response = await Client.ActivateAsync(user, code.Code);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Activate_ReturnsValidationFailed_BeforeAlreadyActive()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.ActivateAsync(user, "12");

        await response.ShouldBeValidationProblemAsync("code");
    }

    // Then 409 when the account is already active, whatever code was sent.

    [Fact]
    public async Task Activate_ReturnsAlreadyActive_WhenTheAccountIsActive()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        (await Client.ActivateAsync(user, code.Code)).StatusCode.Should().Be(HttpStatusCode.OK);

        await ShouldAnswerWhateverTheCodeAsync(user, code.Code, HttpStatusCode.Conflict, "/problems/already-active");
    }

    // Then 429 for a locked code, 410 for an expired one, 422 for a wrong one.

    [Fact]
    public async Task Activate_ReturnsInvalid_ForTheFirstFiveWrongTries_AndLockedFromTheSixthEvenWithTheRightCode()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        var wrong = ApiRequests.OtherThan(code.Code);

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var response = await Client.ActivateAsync(user, wrong);
            await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "/problems/activation-code-invalid");
        }

        await ShouldAnswerWhateverTheCodeAsync(user, code.Code, HttpStatusCode.TooManyRequests, "/problems/activation-code-locked");
        using var me = await Client.GetMeAsync(user.Credentials);
        (await me.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("pending");
    }

    [Fact]
    public async Task Activate_StillAcceptsTheRightCode_AfterFourWrongTries()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            using var wrong = await Client.ActivateAsync(user, ApiRequests.OtherThan(code.Code));
            wrong.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        }

        using var response = await Client.ActivateAsync(user, code.Code);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Activate_ReturnsLocked_RatherThanGone_WhenALockedCodeHasAlsoExpired()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        await LockAsync(user, code.Code);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime + TimeSpan.FromSeconds(1));

        using var response = await Client.ActivateAsync(user, code.Code);

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/activation-code-locked");
    }

    [Fact]
    public async Task Activate_UnlocksWithTheNewCode_AfterAResend()
    {
        var (user, locked) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        await LockAsync(user, locked.Code);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var resend = await Client.RequestNewCodeAsync(user);
        resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var fresh = await Environment.Database.GetCurrentCodeAsync(user.Id);
        using var response = await Client.ActivateAsync(user, fresh.Code);

        fresh.Id.Should().NotBe(locked.Id);
        fresh.FailedAttempts.Should().Be(0);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Activate_Succeeds_WhenCodeIsOneMillisecondShortOfOneMinuteOld()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime - TimeSpan.FromMilliseconds(1));

        using var response = await Client.ActivateAsync(user, code.Code);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Activate_ReturnsGone_WhenCodeIsExactlyOneMinuteOld()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);

        using var response = await Client.ActivateAsync(user, code.Code);

        await response.ShouldBeProblemAsync(HttpStatusCode.Gone, "/problems/activation-code-expired");
    }

    [Fact]
    public async Task Activate_ReturnsGone_WhenCodeIsOlderThanOneMinute_WhateverValueIsSent()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        Environment.Clock.Advance(TimeSpan.FromMinutes(5));

        await ShouldAnswerWhateverTheCodeAsync(user, code.Code, HttpStatusCode.Gone, "/problems/activation-code-expired");
    }

    [Fact]
    public async Task Activate_ReturnsInvalid_ForASupersededCode_AndOkForTheNewOne()
    {
        var (user, old) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        var fresh = old;
        // A new code is random: draw again in the 1-in-10,000 case it repeats the old value.
        while (fresh.Code == old.Code)
        {
            Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
            using var resend = await Client.RequestNewCodeAsync(user);
            resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
            fresh = await Environment.Database.GetCurrentCodeAsync(user.Id);
        }

        using var withOld = await Client.ActivateAsync(user, old.Code);
        using var withFresh = await Client.ActivateAsync(user, fresh.Code);

        await withOld.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "/problems/activation-code-invalid");
        withFresh.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Activate_CountsConcurrentWrongTriesOneByOne()
    {
        var (user, code) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        var wrong = ApiRequests.OtherThan(code.Code);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Client.ActivateAsync(user, wrong)));

        responses.Count(response => response.StatusCode == HttpStatusCode.UnprocessableEntity).Should().Be(5);
        responses.Count(response => response.StatusCode == HttpStatusCode.TooManyRequests).Should().Be(3);
        (await Environment.Database.GetCurrentCodeAsync(user.Id)).FailedAttempts.Should().Be(5);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    /// <summary>The right <paramref name="code"/> and a wrong one both get the problem <paramref name="type"/>: the code does not matter.</summary>
    private async Task ShouldAnswerWhateverTheCodeAsync(TestUser user, string code, HttpStatusCode status, string type)
    {
        using var rightCode = await Client.ActivateAsync(user, code);
        using var wrongCode = await Client.ActivateAsync(user, ApiRequests.OtherThan(code));

        await rightCode.ShouldBeProblemAsync(status, type);
        await wrongCode.ShouldBeProblemAsync(status, type);
    }

    private async Task LockAsync(TestUser user, string code)
    {
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var response = await Client.ActivateAsync(user, ApiRequests.OtherThan(code));
            response.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        }
    }
}
