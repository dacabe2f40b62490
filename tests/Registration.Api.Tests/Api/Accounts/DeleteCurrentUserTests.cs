namespace Registration.Api.Tests.Api.Accounts;

/// <summary>DELETE /v1/users/me: 204; the account, its codes and its unsent emails go; the address is free again.</summary>
public sealed class DeleteCurrentUserTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task DeleteMe_ReturnsNoContent_AndTheCredentialsStopWorking()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.DeleteMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await response.Content.ReadAsStringAsync()).Should().BeEmpty();
        using var afterwards = await Client.GetMeAsync(user.Credentials);
        await afterwards.ShouldBeUnauthorizedAsync();
        (await Environment.Database.GetUsersAsync(user.Email)).Should().BeEmpty();
    }

    [Fact]
    public async Task DeleteMe_RemovesTheUsersActivationCodes()
    {
        var user = await UserWithAResentCodeAsync();

        (await Environment.Database.GetCodesAsync(user.Id)).Should().HaveCount(2);

        using var response = await Client.DeleteMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await Environment.Database.GetCodesAsync(user.Id)).Should().BeEmpty();
        (await Environment.Database.CountOrphanCodesAsync()).Should().Be(0);
    }

    [Fact]
    public async Task DeleteMe_RemovesTheUsersOutboxMessagesNotYetDispatched_SoNoCodeIsEmailedForAGoneAccount()
    {
        var user = await UserWithAResentCodeAsync();

        // As if the broker were down: both messages wait for a retry an hour away, so the dispatcher leaves them.
        await Environment.Database.ExecuteAsync(
            "UPDATE outbox_messages SET dispatched_at = NULL, next_attempt_at = now() + interval '1 hour' WHERE payload->>'userId' = @UserId",
            new { UserId = user.Id.ToString() });
        (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Should().HaveCount(2);

        using var response = await Client.DeleteMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Where(message => message.DispatchedAt is null).Should().BeEmpty();
    }

    [Fact]
    public async Task DeleteMe_FreesTheEmail_ForANewRegistration()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);
        using var delete = await Client.DeleteMeAsync(user.Credentials);
        delete.StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var response = await Client.RegisterAsync(user.Email, "someone else's password");

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        (await response.ReadJsonAsync()).GetProperty("id").GetGuid().Should().NotBe(user.Id);
        using var oldCredentials = await Client.GetMeAsync(user.Credentials);
        await oldCredentials.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task DeleteMe_LeavesOtherAccountsAlone()
    {
        var user = await Client.RegisterUserAsync();
        var other = await Client.RegisterUserAsync();

        using var response = await Client.DeleteMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var otherStillThere = await Client.GetMeAsync(other.Credentials);
        otherStillThere.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Environment.Database.GetCodesAsync(other.Id)).Should().ContainSingle();
        (await Environment.Database.GetOutboxMessagesAsync(other.Id)).Should().ContainSingle();
    }

    [Fact]
    public async Task DeleteMe_ReturnsUnauthorized_AndKeepsTheAccount_WhenThePasswordIsWrong()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.DeleteMeAsync(BasicAuth.Header(user.Email, "not the password"));

        await response.ShouldBeUnauthorizedAsync();
        (await Environment.Database.GetUsersAsync(user.Email)).Should().ContainSingle();
    }

    [Fact]
    public async Task DeleteMe_ReturnsUnauthorized_WhenTheAccountIsAlreadyGone()
    {
        var user = await Client.RegisterUserAsync();
        using var first = await Client.DeleteMeAsync(user.Credentials);
        first.StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var second = await Client.DeleteMeAsync(user.Credentials);

        await second.ShouldBeUnauthorizedAsync();
    }

    /// <summary>A pending user with two codes, and two code emails in the outbox: the registration's, then a resend's.</summary>
    private async Task<TestUser> UserWithAResentCodeAsync()
    {
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(TimeSpan.FromSeconds(30));
        using var resend = await Client.RequestNewCodeAsync(user);
        resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
        return user;
    }
}
