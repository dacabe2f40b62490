namespace Registration.Api.Tests.Api;

/// <summary>
/// No squatting: a pending account whose latest code has expired is replaced by a new registration of its
/// email; while the code lives, or once the account is active, the email is taken.
/// </summary>
public sealed class ReRegistrationTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task Register_ReturnsEmailTaken_WhileThePendingAccountsCodeIsLive()
    {
        var squatter = await Client.RegisterUserAsync(password: "squatter password");
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime - TimeSpan.FromMilliseconds(1));

        using var response = await Client.RegisterAsync(squatter.Email, "owner password");

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
    }

    [Fact]
    public async Task Register_ReplacesThePendingAccount_OnceItsCodeHasExpired()
    {
        var squatter = await Client.RegisterUserAsync(password: "squatter password");
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);

        using var response = await Client.RegisterAsync(squatter.Email.ToUpperInvariant(), "owner password");

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var ownerId = (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
        ownerId.Should().NotBe(squatter.Id);
        response.Headers.Location.Should().Be(new Uri($"/v1/users/{ownerId}", UriKind.Relative));

        using var oldPassword = await Client.GetMeAsync(BasicAuth.Header(squatter.Email, squatter.Password));
        using var newPassword = await Client.GetMeAsync(BasicAuth.Header(squatter.Email, "owner password"));
        await oldPassword.ShouldBeUnauthorizedAsync();
        newPassword.StatusCode.Should().Be(HttpStatusCode.OK);
        (await newPassword.ReadJsonAsync()).GetProperty("id").GetGuid().Should().Be(ownerId);
        (await Environment.Database.GetUsersAsync(squatter.Email)).Should().ContainSingle().Which.Id.Should().Be(ownerId);
    }

    [Fact]
    public async Task Register_GivesTheReplacingAccountItsOwnWorkingCode()
    {
        var (squatter, squatterCode) = await Client.RegisterUserWithCodeAsync(Environment.Database, password: "squatter password");
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);

        var (owner, ownerCode) = await Client.RegisterUserWithCodeAsync(Environment.Database, squatter.Email, "owner password");
        using var activation = await Client.ActivateAsync(owner, ownerCode.Code);

        ownerCode.Id.Should().NotBe(squatterCode.Id);
        (await Environment.Database.GetCodesAsync(squatter.Id)).Should().BeEmpty("the replaced account's codes go with it");
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Environment.Database.GetOutboxMessagesAsync(owner.Id)).Should().ContainSingle()
            .Which.MessageType.Should().Be("UserRegistered");
    }

    [Fact]
    public async Task Register_ReturnsEmailTaken_WhenAPendingAccountGotAFreshCodeByResend()
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime + TimeSpan.FromSeconds(10));
        (await Client.RequestNewCodeAsync(user)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        using var response = await Client.RegisterAsync(user.Email, "someone else's password");

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
    }

    [Fact]
    public async Task Register_NeverReplacesAnActivatedAccount()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(TimeSpan.FromHours(2));

        using var response = await Client.RegisterAsync(user.Email, "someone else's password");

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        using var me = await Client.GetMeAsync(user.Credentials);
        me.StatusCode.Should().Be(HttpStatusCode.OK);
        (await me.ReadJsonAsync()).GetProperty("id").GetGuid().Should().Be(user.Id);
    }
}
