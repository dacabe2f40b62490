using System.Text.Json;
using Registration.Contracts.V1;

namespace Registration.Api.Tests.Api.Accounts;

/// <summary>
/// Changing the email of an ACTIVE account (design, "Changing the email"): PATCH records <c>pendingEmail</c> and
/// emails a code to it (<c>EmailChangeRequested</c>); the sign-in address changes only when
/// <c>POST /v1/users/me/email-confirmation</c> brings that code back, and the old address then gets a notice
/// (<c>EmailChanged</c>). A pending change reserves nothing; a new PATCH replaces it, the current address cancels it.
/// </summary>
public sealed class EmailChangeTests(ApiFixture factory) : ApiTest(factory)
{
    private const int MaxFailedAttempts = 5;

    [Fact]
    public async Task PatchMe_OfAnActiveAccount_KeepsItsAddress_AndEmailsAConfirmationCodeToTheNewOne()
    {
        var user = await ActiveUserPastTheCooldownAsync();
        var newEmail = ApiRequests.UniqueEmail("new");

        using var response = await Client.PatchMeAsync(user, new { email = newEmail });

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.ReadJsonAsync();
        body.GetProperty("email").GetString().Should().Be(user.Email);
        body.GetProperty("status").GetString().Should().Be("active");
        body.GetProperty("activatedAt").ValueKind.Should().NotBe(JsonValueKind.Null);
        body.GetProperty("pendingEmail").GetString().Should().Be(newEmail);

        var code = await Environment.Database.GetCurrentCodeAsync(user.Id);
        code.Reason.Should().Be("email-change");
        var requested = (await Environment.Database.GetOutboxMessagesAsync(user.Id))[^1];
        requested.MessageType.Should().Be(nameof(EmailChangeRequested));
        var payload = JsonDocument.Parse(requested.Payload).RootElement;
        payload.GetProperty("userId").GetGuid().Should().Be(user.Id);
        payload.GetProperty("newEmail").GetString().Should().Be(newEmail);
        payload.GetProperty("confirmationCode").GetString().Should().Be(code.Code);
        payload.GetProperty("codeExpiresAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow() + ActivationDefaults.CodeLifetime);
        payload.GetProperty("occurredAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow());
        (await Environment.Database.GetOutboxMessagesAsync(newEmail)).Should().ContainSingle("the code goes to the new address only");

        using var withOldAddress = await Client.GetMeAsync(user);
        withOldAddress.StatusCode.Should().Be(HttpStatusCode.OK, "the sign-in address changes only at confirmation");
        using var withNewAddress = await Client.GetMeAsync(BasicAuth.Header(newEmail, user.Password));
        await withNewAddress.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task Confirmation_SwapsTheAddress_NotifiesTheOldOne_AndFreesIt()
    {
        var (user, newEmail, code) = await UserWithAPendingChangeAsync();

        using var response = await Client.ConfirmEmailChangeAsync(user, code);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.ReadJsonAsync();
        body.GetProperty("email").GetString().Should().Be(newEmail);
        body.GetProperty("pendingEmail").ValueKind.Should().Be(JsonValueKind.Null);
        body.GetProperty("status").GetString().Should().Be("active");
        var notice = (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Should()
            .ContainSingle(row => row.MessageType == nameof(EmailChanged)).Subject;
        notice.Code.Should().BeNull("the notice carries no code");
        var payload = JsonDocument.Parse(notice.Payload).RootElement;
        payload.GetProperty("oldEmail").GetString().Should().Be(user.Email);
        payload.GetProperty("newEmail").GetString().Should().Be(newEmail);
        (await Environment.Database.GetOutboxMessagesAsync(user.Email)).Should().Contain(row => row.Id == notice.Id, "the notice goes to the old address");

        using var withNewAddress = await Client.GetMeAsync(BasicAuth.Header(newEmail.ToUpperInvariant(), user.Password));
        withNewAddress.StatusCode.Should().Be(HttpStatusCode.OK);
        using var withOldAddress = await Client.GetMeAsync(user);
        await withOldAddress.ShouldBeUnauthorizedAsync();
        using var oldAddressFree = await Client.RegisterAsync(user.Email, ApiRequests.DefaultPassword);
        oldAddressFree.StatusCode.Should().Be(HttpStatusCode.Created);
        using var newAddressTaken = await Client.RegisterAsync(newEmail, ApiRequests.DefaultPassword);
        await newAddressTaken.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
    }

    [Fact]
    public async Task Confirmation_ReturnsNoPendingChange_WhenNothingAwaitsConfirmation()
    {
        var active = await Client.RegisterActiveUserAsync(Environment.Database);
        var pending = await Client.RegisterUserAsync();
        var pendingCode = (await Environment.Database.GetCurrentCodeAsync(pending.Id)).Code;

        using var forActive = await Client.ConfirmEmailChangeAsync(active, "1234");
        using var forPending = await Client.ConfirmEmailChangeAsync(pending, pendingCode);

        await forActive.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/no-pending-change");
        await forPending.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/no-pending-change");
        (await Environment.Database.GetStatusAsync(pending.Id)).Should().Be("pending", "an activation code confirms no change");
    }

    [Theory]
    [InlineData("""{"code":"123"}""")]
    [InlineData("""{"code":"12345"}""")]
    [InlineData("""{"code":"12a4"}""")]
    [InlineData("""{"code":1234}""")]
    [InlineData("{}")]
    public async Task Confirmation_ReturnsValidationFailed_ForACodeThatIsNotFourDigits_BeforeLookingForAChange(string body)
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.SendAsync(HttpMethod.Post, "/v1/users/me/email-confirmation", user.Credentials, ApiRequests.Json(body));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "/problems/validation-failed");
    }

    [Fact]
    public async Task Confirmation_ReturnsUnauthorized_UnderTheNewAddress_BeforeTheChangeIsConfirmed()
    {
        var (user, newEmail, code) = await UserWithAPendingChangeAsync();

        using var response = await Client.ConfirmEmailChangeAsync(BasicAuth.Header(newEmail, user.Password), code);

        await response.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task Confirmation_FollowsTheCodeRules_WrongThenLocked_EvenForTheRightCode_UntilANewPatch()
    {
        var (user, newEmail, code) = await UserWithAPendingChangeAsync();

        var wrong = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < MaxFailedAttempts; attempt++)
        {
            using var response = await Client.ConfirmEmailChangeAsync(user, ApiRequests.OtherThan(code));
            wrong.Add(response.StatusCode);
            if (attempt == 0)
            {
                var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "/problems/activation-code-invalid");
                problem.GetProperty("detail").GetString().Should().Contain("4 more wrong tries");
            }
        }

        using var right = await Client.ConfirmEmailChangeAsync(user, code);

        wrong.Should().AllBeEquivalentTo(HttpStatusCode.UnprocessableEntity);
        await right.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/activation-code-locked");
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        var fresh = await Client.RequestEmailChangeAsync(user, newEmail, Environment.Database);
        using var confirmed = await Client.ConfirmEmailChangeAsync(user, fresh);
        confirmed.StatusCode.Should().Be(HttpStatusCode.OK, "a new PATCH issues a new code with new tries");
    }

    [Fact]
    public async Task Confirmation_ReturnsGone_OnceTheCodeExpired_WhateverWasSent()
    {
        var user = await ActiveUserPastTheCooldownAsync();
        var code = await Client.RequestEmailChangeAsync(user, ApiRequests.UniqueEmail("new"), Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);

        using var right = await Client.ConfirmEmailChangeAsync(user, code);
        using var wrong = await Client.ConfirmEmailChangeAsync(user, ApiRequests.OtherThan(code));

        await right.ShouldBeProblemAsync(HttpStatusCode.Gone, "/problems/activation-code-expired");
        await wrong.ShouldBeProblemAsync(HttpStatusCode.Gone, "/problems/activation-code-expired");
        (await Environment.Database.GetCurrentCodeAsync(user.Id)).FailedAttempts.Should().Be(0, "an expired code counts no wrong tries");
    }

    [Fact]
    public async Task PatchMe_WithTheCurrentAddress_CancelsThePendingChange()
    {
        var user = await ActiveUserPastTheCooldownAsync();
        var code = await Client.RequestEmailChangeAsync(user, ApiRequests.UniqueEmail("new"), Environment.Database);

        using var cancel = await Client.PatchMeAsync(user, new { email = user.Email.ToUpperInvariant() });
        using var confirm = await Client.ConfirmEmailChangeAsync(user, code);

        cancel.StatusCode.Should().Be(HttpStatusCode.OK, "cancelling emails nothing, so no cooldown applies");
        (await cancel.ReadJsonAsync()).GetProperty("pendingEmail").ValueKind.Should().Be(JsonValueKind.Null);
        await confirm.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/no-pending-change");
        (await Environment.Database.GetCodesAsync(user.Id)).Should().NotContain(stored => stored.Live, "the change code is superseded");
    }

    [Fact]
    public async Task PatchMe_AgainReplacesThePendingChange_AndItsCode()
    {
        var user = await ActiveUserPastTheCooldownAsync();
        var first = ApiRequests.UniqueEmail("first");
        var second = ApiRequests.UniqueEmail("second");
        var firstCode = await Client.RequestEmailChangeAsync(user, first, Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        var secondCode = await Client.RequestEmailChangeAsync(user, second, Environment.Database);

        using var withFirstCode = await Client.ConfirmEmailChangeAsync(user, firstCode == secondCode ? ApiRequests.OtherThan(secondCode) : firstCode);
        using var withSecondCode = await Client.ConfirmEmailChangeAsync(user, secondCode);

        await withFirstCode.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "/problems/activation-code-invalid");
        withSecondCode.StatusCode.Should().Be(HttpStatusCode.OK);
        (await withSecondCode.ReadJsonAsync()).GetProperty("email").GetString().Should().Be(second);
    }

    [Fact]
    public async Task PatchMe_ReturnsResendTooSoon_WithinTheCooldownOfTheLastCode()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown - TimeSpan.FromSeconds(3));

        using var response = await Client.PatchMeAsync(user, new { email = ApiRequests.UniqueEmail("new") });

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/resend-too-soon");
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(3));
        (await Environment.Database.GetCodesAsync(user.Id)).Should().ContainSingle("the registration code, used");
    }

    [Fact]
    public async Task Confirmation_ReturnsEmailTaken_WhenSomeoneRegisteredTheNewAddressMeanwhile_AndKeepsTheChangePending()
    {
        var (user, newEmail, code) = await UserWithAPendingChangeAsync();
        var owner = await Client.RegisterUserAsync(newEmail, "the mailbox owner's password");

        using var response = await Client.ConfirmEmailChangeAsync(user, code);

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        using var me = await Client.GetMeAsync(user);
        (await me.ReadJsonAsync()).GetProperty("pendingEmail").GetString().Should().Be(newEmail);
        (await Environment.Database.GetUsersAsync(newEmail)).Should().ContainSingle().Which.Id.Should().Be(owner.Id);
    }

    [Fact]
    public async Task Confirmation_TakesTheAddressOverFromAPendingAccountWhoseCodeDied()
    {
        var squatter = await Client.RegisterUserAsync(password: "the squatter's password");
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);
        var code = await Client.RequestEmailChangeAsync(user, squatter.Email, Environment.Database);

        using var response = await Client.ConfirmEmailChangeAsync(user, code);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await Environment.Database.GetUsersAsync(squatter.Email)).Should().ContainSingle().Which.Id.Should().Be(user.Id);
        (await Environment.Database.GetStatusAsync(squatter.Id)).Should().BeNull("the replaced pending account is gone");
        (await Environment.Database.GetOutboxMessagesAsync(squatter.Id)).Should().BeEmpty("its unsent messages went with it");
    }

    [Fact]
    public async Task APendingChange_ReservesNothing_TwoAccountsMayAwaitTheSameAddress_TheFirstToConfirmGetsIt()
    {
        var first = await ActiveUserPastTheCooldownAsync();
        var second = await Client.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        var contested = ApiRequests.UniqueEmail("contested");
        var firstCode = await Client.RequestEmailChangeAsync(first, contested, Environment.Database);
        var secondCode = await Client.RequestEmailChangeAsync(second, contested, Environment.Database);

        using var firstConfirms = await Client.ConfirmEmailChangeAsync(first, firstCode);
        using var secondConfirms = await Client.ConfirmEmailChangeAsync(second, secondCode);

        firstConfirms.StatusCode.Should().Be(HttpStatusCode.OK);
        await secondConfirms.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
    }

    [Fact]
    public async Task ExpiredBeforeDelivery_OfAChangeCode_IssuesAFreshOne_WhileTheChangeIsPending()
    {
        var (user, newEmail, _) = await UserWithAPendingChangeAsync();
        var expired = await Environment.Database.GetCurrentCodeAsync(user.Id);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);

        await Environment.Api.PublishAndWaitUntilConsumedAsync(new ActivationCodeExpiredBeforeDelivery(
            user.Id, newEmail, new DateTimeOffset(expired.ExpiresAt, TimeSpan.Zero), Environment.Clock.GetUtcNow()));

        var fresh = await Eventually.GetAsync(
            () => Environment.Database.GetCurrentCodeAsync(user.Id), code => code.Id != expired.Id, "a fresh change code");
        fresh.Reason.Should().Be("redelivery");
        var requested = (await Environment.Database.GetOutboxMessagesAsync(user.Id))[^1];
        requested.MessageType.Should().Be(nameof(EmailChangeRequested));
        requested.Code.Should().Be(fresh.Code);
        using var confirmed = await Client.ConfirmEmailChangeAsync(user, fresh.Code);
        confirmed.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ExpiredBeforeDelivery_OfAChangeCode_IssuesNothing_OnceTheChangeWasCancelled()
    {
        var (user, newEmail, _) = await UserWithAPendingChangeAsync();
        var expired = await Environment.Database.GetCurrentCodeAsync(user.Id);
        using var cancel = await Client.PatchMeAsync(user, new { email = user.Email });
        cancel.StatusCode.Should().Be(HttpStatusCode.OK);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);

        await Environment.Api.PublishAndWaitUntilConsumedAsync(new ActivationCodeExpiredBeforeDelivery(
            user.Id, newEmail, new DateTimeOffset(expired.ExpiresAt, TimeSpan.Zero), Environment.Clock.GetUtcNow()));

        (await Environment.Database.GetCodesAsync(user.Id)).Should().HaveCount(2, "the registration code and the cancelled change code, no new one");
    }

    /// <summary>An active user whose registration code is older than the resend cooldown, so a PATCH may email a code.</summary>
    private async Task<TestUser> ActiveUserPastTheCooldownAsync()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        return user;
    }

    /// <summary>An active user past the resend cooldown with a change to a fresh address pending, and the code emailed to it.</summary>
    private async Task<(TestUser User, string NewEmail, string Code)> UserWithAPendingChangeAsync()
    {
        var user = await ActiveUserPastTheCooldownAsync();
        var newEmail = ApiRequests.UniqueEmail("new");
        return (user, newEmail, await Client.RequestEmailChangeAsync(user, newEmail, Environment.Database));
    }
}
