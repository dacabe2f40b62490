using System.Text.Json;

namespace Registration.Api.Tests.Api.Accounts;

/// <summary>
/// PATCH /v1/users/me: a new password; a new email of a pending account (replaced at once, with a new code); 400,
/// 401, 409, 415. The email change of an active account (confirmed by code) is in <see cref="EmailChangeTests"/>.
/// </summary>
public sealed class UpdateCurrentUserTests(ApiFixture factory) : ApiTest(factory)
{
    private const string NewPassword = "a brand new passphrase";

    [Fact]
    public async Task PatchMe_ChangesThePassword_SoOnlyTheNewOneAuthenticates()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.PatchMeAsync(user, new { password = NewPassword });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.ReadJsonAsync();
        body.GetProperty("id").GetGuid().Should().Be(user.Id);
        body.GetProperty("status").GetString().Should().Be("active", "a password change does not touch the activation");
        body.EnumerateObject().Select(property => property.Name)
            .Should().BeEquivalentTo(ApiRequests.UserBodyProperties);
        using var withOld = await Client.GetMeAsync(user.Credentials);
        await withOld.ShouldBeUnauthorizedAsync();
        using var withNew = await Client.GetMeAsync(BasicAuth.Header(user.Email, NewPassword));
        withNew.StatusCode.Should().Be(HttpStatusCode.OK);
        BCrypt.Net.BCrypt.Verify(NewPassword, (await Environment.Database.GetUsersAsync(user.Email)).Single().PasswordHash).Should().BeTrue();
    }

    [Theory]
    [InlineData("1234567")] // 7 characters
    [InlineData("ééééééé")] // 7 characters, 14 bytes
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 73 bytes
    [InlineData("ééééééééééééééééééééééééééééééééééééa")] // 36 × 2 + 1 = 73 bytes
    public async Task PatchMe_ReturnsValidationFailed_AndKeepsThePassword_WhenTheNewPasswordBreaksARule(string password)
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.PatchMeAsync(user, new { password });

        await response.ShouldBeValidationProblemAsync("password");
        using var withOld = await Client.GetMeAsync(user.Credentials);
        withOld.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("12345678")] // 8 characters
    [InlineData("éééééééééééééééééééééééééééééééééééé")] // 36 × 2 = exactly 72 bytes
    public async Task PatchMe_AcceptsANewPassword_AtTheBoundsOfTheRules(string password)
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.PatchMeAsync(user, new { password });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var withNew = await Client.GetMeAsync(BasicAuth.Header(user.Email, password));
        withNew.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task PatchMe_ReplacesTheAddressOfAPendingAccountAtOnce()
    {
        var user = await Client.RegisterUserAsync();
        var newEmail = ApiRequests.UniqueEmail("changed");
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var response = await Client.PatchMeAsync(user, new { email = newEmail });

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.ReadJsonAsync();
        body.GetProperty("id").GetGuid().Should().Be(user.Id);
        body.GetProperty("email").GetString().Should().Be(newEmail);
        body.GetProperty("status").GetString().Should().Be("pending");
        body.GetProperty("pendingEmail").ValueKind.Should().Be(JsonValueKind.Null, "nothing verified is lost, so nothing waits");
        using var withNewEmail = await Client.GetMeAsync(BasicAuth.Header(newEmail, user.Password));
        withNewEmail.StatusCode.Should().Be(HttpStatusCode.OK);
        using var withOldEmail = await Client.GetMeAsync(user.Credentials);
        await withOldEmail.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task PatchMe_OfAPendingAccount_FreesTheOldAddress_AndTakesTheNewOne()
    {
        var user = await Client.RegisterUserAsync();
        var newEmail = await MoveToANewAddressAsync(user);

        using var oldAddress = await Client.RegisterAsync(user.Email, ApiRequests.DefaultPassword);
        using var newAddress = await Client.RegisterAsync(newEmail.ToUpperInvariant(), ApiRequests.DefaultPassword);

        oldAddress.StatusCode.Should().Be(HttpStatusCode.Created);
        (await oldAddress.ReadJsonAsync()).GetProperty("id").GetGuid().Should().NotBe(user.Id);
        await newAddress.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
    }

    [Fact]
    public async Task PatchMe_OfAPendingAccount_IssuesAnEmailChangedCode_AndQueuesItsEmailInTheOutbox()
    {
        var user = await Client.RegisterUserAsync();
        var newEmail = ApiRequests.UniqueEmail("changed");
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var response = await Client.PatchMeAsync(user, new { email = newEmail });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var code = await Environment.Database.GetCurrentCodeAsync(user.Id);
        code.Reason.Should().Be("email-changed");
        code.ExpiresAt.Should().Be((Environment.Clock.GetUtcNow() + ActivationDefaults.CodeLifetime).UtcDateTime);
        var reissued = (await Environment.Database.GetOutboxMessagesAsync(user.Id))
            .Where(message => message.MessageType == "ActivationCodeReissued")
            .Should().ContainSingle().Subject;
        var payload = JsonDocument.Parse(reissued.Payload).RootElement;
        payload.GetProperty("userId").GetGuid().Should().Be(user.Id);
        payload.GetProperty("email").GetString().Should().Be(newEmail, "the code goes to the new address");
        payload.GetProperty("activationCode").GetString().Should().Be(code.Code);
        payload.GetProperty("reason").GetString().Should().Be("email-changed");
        payload.GetProperty("codeExpiresAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow() + ActivationDefaults.CodeLifetime);
    }

    [Fact]
    public async Task PatchMe_OfAPendingAccount_SendsACodeThatActivatesIt()
    {
        var user = await Client.RegisterUserAsync();
        var newEmail = await MoveToANewAddressAsync(user);
        var code = await Environment.Database.GetCurrentCodeAsync(user.Id);

        using var response = await Client.ActivateAsync(BasicAuth.Header(newEmail, user.Password), code.Code);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.ReadJsonAsync();
        body.GetProperty("status").GetString().Should().Be("active");
        body.GetProperty("email").GetString().Should().Be(newEmail);
    }

    [Fact]
    public async Task PatchMe_ChangingTheEmailOfAPendingAccount_SupersedesItsRegistrationCode()
    {
        var (user, registrationCode) = await Client.RegisterUserWithCodeAsync(Environment.Database);
        var newEmail = await MoveToANewAddressAsync(user);
        var newCode = await Environment.Database.GetCurrentCodeAsync(user.Id);
        newCode.Id.Should().NotBe(registrationCode.Id);

        using var response = await Client.ActivateAsync(BasicAuth.Header(newEmail, user.Password), registrationCode.Code == newCode.Code
            ? ApiRequests.OtherThan(newCode.Code)
            : registrationCode.Code);

        await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "/problems/activation-code-invalid");
        (await Environment.Database.GetCodesAsync(user.Id)).Should().HaveCount(2);
    }

    [Fact]
    public async Task PatchMe_OfAPendingAccount_ReturnsResendTooSoon_WithinTheCooldownOfItsLastCode()
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown - TimeSpan.FromSeconds(1));

        using var response = await Client.PatchMeAsync(user, new { email = ApiRequests.UniqueEmail("changed"), password = NewPassword });

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/resend-too-soon");
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        await ShouldBeUnchangedAsync(user, "pending");
    }

    [Fact]
    public async Task PatchMe_ReturnsEmailTaken_WhenTheNewEmailBelongsToAnActiveUser()
    {
        var holder = await Client.RegisterActiveUserAsync(Environment.Database);
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.PatchMeAsync(user, new { email = holder.Email.ToUpperInvariant() });

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        await ShouldBeUnchangedAsync(user, "active");
    }

    [Fact]
    public async Task PatchMe_ReturnsEmailTaken_WhenTheNewEmailBelongsToAPendingUserWithALiveCode()
    {
        var holder = await Client.RegisterUserAsync();
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime - TimeSpan.FromSeconds(1));

        using var response = await Client.PatchMeAsync(user, new { email = holder.Email });

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        await ShouldBeUnchangedAsync(user, "active");
        using var holderStillThere = await Client.GetMeAsync(holder.Credentials);
        holderStillThere.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task PatchMe_OfAPendingAccount_TakesOverTheNewEmail_WhenItsPendingHolderNeverActivatedAndTheCodeExpired()
    {
        var holder = await Client.RegisterUserAsync(password: "the squatter's own password");
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);

        using var response = await Client.PatchMeAsync(user, new { email = holder.Email });

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await Environment.Database.GetUsersAsync(holder.Email)).Should().ContainSingle().Which.Id.Should().Be(user.Id);
        using var holderGone = await Client.GetMeAsync(holder.Credentials);
        await holderGone.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task PatchMe_ChangesNothing_WhenTheNewEmailIsTakenAndANewPasswordCameWithIt()
    {
        var holder = await Client.RegisterActiveUserAsync(Environment.Database);
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.PatchMeAsync(user, new { email = holder.Email, password = NewPassword });

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        await ShouldBeUnchangedAsync(user, "active");
    }

    [Fact]
    public async Task PatchMe_ChangesThePasswordAtOnce_AndTheEmailOfAnActiveAccountOnlyOnceConfirmed()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        var newEmail = ApiRequests.UniqueEmail("changed");
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);

        using var response = await Client.PatchMeAsync(user, new { email = newEmail, password = NewPassword });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var withOldEmailNewPassword = await Client.GetMeAsync(BasicAuth.Header(user.Email, NewPassword));
        withOldEmailNewPassword.StatusCode.Should().Be(HttpStatusCode.OK);
        using var withNewEmail = await Client.GetMeAsync(BasicAuth.Header(newEmail, NewPassword));
        await withNewEmail.ShouldBeUnauthorizedAsync();
        (await withOldEmailNewPassword.ReadJsonAsync()).GetProperty("pendingEmail").GetString().Should().Be(newEmail);
    }

    [Fact]
    public async Task PatchMe_TreatsTheSameEmailInAnotherCase_AsNoChange()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        var codesBefore = await Environment.Database.GetCodesAsync(user.Id);
        var outboxBefore = await Environment.Database.GetOutboxMessagesAsync(user.Id);

        using var response = await Client.PatchMeAsync(user, new { email = $"  {user.Email.ToUpperInvariant()} " });

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await response.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("active");
        (await Environment.Database.GetCodesAsync(user.Id)).Should().HaveCount(codesBefore.Count, "no new code is issued");
        (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Should().HaveCount(outboxBefore.Count, "no email is sent");
        await ShouldBeUnchangedAsync(user, "active");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"email":null,"password":null}""")]
    [InlineData("""{"unknown":"field"}""")]
    public async Task PatchMe_ReturnsValidationFailed_WhenTheBodyAsksForNoChange(string body)
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.PatchMeRawAsync(user.Credentials, body);

        await response.ShouldBeValidationProblemAsync("body");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("no-at-sign.example.com")]
    [InlineData("two@at@example.com")]
    [InlineData("user@localhost")]
    [InlineData("us er@example.com")]
    public async Task PatchMe_ReturnsValidationFailed_AndChangesNothing_WhenTheNewEmailBreaksARule(string email)
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.PatchMeAsync(user, new { email, password = NewPassword });

        await response.ShouldBeValidationProblemAsync("email");
        await ShouldBeUnchangedAsync(user, "active");
    }

    [Fact]
    public async Task PatchMe_ReturnsValidationFailed_ForAnEmailLongerThan254Characters()
    {
        var user = await Client.RegisterUserAsync();
        var email = new string('a', 243) + "@example.com"; // 255

        using var response = await Client.PatchMeAsync(user, new { email });

        await response.ShouldBeValidationProblemAsync("email");
    }

    [Theory]
    [InlineData("""{"email":5}""")]
    [InlineData("""{"password":["a","b"]}""")]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    [InlineData("{\"email\":")]
    [InlineData("not json")]
    public async Task PatchMe_ReturnsValidationFailed_WhenTheBodyIsNotTheExpectedJson(string body)
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.PatchMeRawAsync(user.Credentials, body);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "/problems/validation-failed");
    }

    [Fact]
    public async Task PatchMe_ReturnsUnauthorized_AndChangesNothing_WhenThePasswordIsWrong()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.PatchMeAsync(BasicAuth.Header(user.Email, "not the password"), new { password = NewPassword });

        await response.ShouldBeUnauthorizedAsync();
        await ShouldBeUnchangedAsync(user, "active");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/xml")]
    public async Task PatchMe_ReturnsUnsupportedMediaType_WhenTheBodyIsNotJson(string contentType)
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.PatchMeRawAsync(user.Credentials, $$"""{"password":"{{NewPassword}}"}""", contentType);

        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "/problems/unsupported-media-type");
        using var withOld = await Client.GetMeAsync(user.Credentials);
        withOld.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    /// <summary>The account still answers to its old credentials, with its old email and status.</summary>
    private async Task ShouldBeUnchangedAsync(TestUser user, string status)
    {
        using var response = await Client.GetMeAsync(user.Credentials);
        response.StatusCode.Should().Be(HttpStatusCode.OK, "the old email and password still work");
        var body = await response.ReadJsonAsync();
        body.GetProperty("email").GetString().Should().Be(user.Email);
        body.GetProperty("status").GetString().Should().Be(status);
    }

    /// <summary>Moves a pending <paramref name="user"/> to a fresh address, past the resend cooldown; returns that address.</summary>
    private async Task<string> MoveToANewAddressAsync(TestUser user)
    {
        var newEmail = ApiRequests.UniqueEmail("changed");
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        await Client.RequestEmailChangeAsync(user, newEmail, Environment.Database);
        return newEmail;
    }
}
