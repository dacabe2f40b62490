namespace Registration.Api.Tests.Api.Accounts;

/// <summary>DELETE /v1/users/me: 204; the account, its codes and its unsent emails go; the address is free again.</summary>
public sealed class DeleteCurrentUserTests(ApiFixture factory) : IClassFixture<ApiFixture>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task DeleteMe_ReturnsNoContent_AndTheCredentialsStopWorking()
    {
        var user = await _client.RegisterActiveUserAsync(factory.Database);

        using var response = await _client.DeleteMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await response.Content.ReadAsStringAsync()).Should().BeEmpty();
        using var afterwards = await _client.GetMeAsync(user.Credentials);
        await afterwards.ShouldBeUnauthorizedAsync();
        (await factory.Database.GetUsersAsync(user.Email)).Should().BeEmpty();
    }

    [Fact]
    public async Task DeleteMe_RemovesTheUsersActivationCodes()
    {
        var user = await UserWithAResentCodeAsync();

        (await factory.Database.GetCodesAsync(user.Id)).Should().HaveCount(2);

        using var response = await _client.DeleteMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await factory.Database.GetCodesAsync(user.Id)).Should().BeEmpty();
        (await factory.Database.CountOrphanCodesAsync()).Should().Be(0);
    }

    [Fact]
    public async Task DeleteMe_RemovesTheUsersOutboxMessagesNotYetDispatched_SoNoCodeIsEmailedForAGoneAccount()
    {
        var user = await UserWithAResentCodeAsync();

        // As if the broker were down: both messages wait for a retry an hour away, so the dispatcher leaves them.
        await factory.Database.ExecuteAsync(
            "UPDATE outbox_messages SET dispatched_at = NULL, next_attempt_at = now() + interval '1 hour' WHERE payload->>'userId' = @UserId",
            new { UserId = user.Id.ToString() });
        (await factory.Database.GetOutboxMessagesAsync(user.Id)).Should().HaveCount(2);

        using var response = await _client.DeleteMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await factory.Database.GetOutboxMessagesAsync(user.Id)).Where(message => message.DispatchedAt is null).Should().BeEmpty();
    }

    [Fact]
    public async Task DeleteMe_FreesTheEmail_ForANewRegistration()
    {
        var user = await _client.RegisterActiveUserAsync(factory.Database);
        using var delete = await _client.DeleteMeAsync(user.Credentials);
        delete.StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var response = await _client.RegisterAsync(user.Email, "someone else's password");

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        (await response.ReadJsonAsync()).GetProperty("id").GetGuid().Should().NotBe(user.Id);
        using var oldCredentials = await _client.GetMeAsync(user.Credentials);
        await oldCredentials.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task DeleteMe_LeavesOtherAccountsAlone()
    {
        var user = await _client.RegisterUserAsync();
        var other = await _client.RegisterUserAsync();

        using var response = await _client.DeleteMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var otherStillThere = await _client.GetMeAsync(other.Credentials);
        otherStillThere.StatusCode.Should().Be(HttpStatusCode.OK);
        (await factory.Database.GetCodesAsync(other.Id)).Should().ContainSingle();
        (await factory.Database.GetOutboxMessagesAsync(other.Id)).Should().ContainSingle();
    }

    [Fact]
    public async Task DeleteMe_ReturnsUnauthorized_AndKeepsTheAccount_WhenThePasswordIsWrong()
    {
        var user = await _client.RegisterUserAsync();

        using var response = await _client.DeleteMeAsync(BasicAuth.Header(user.Email, "not the password"));

        await response.ShouldBeUnauthorizedAsync();
        (await factory.Database.GetUsersAsync(user.Email)).Should().ContainSingle();
    }

    [Fact]
    public async Task DeleteMe_ReturnsUnauthorized_WhenTheAccountIsAlreadyGone()
    {
        var user = await _client.RegisterUserAsync();
        using var first = await _client.DeleteMeAsync(user.Credentials);
        first.StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var second = await _client.DeleteMeAsync(user.Credentials);

        await second.ShouldBeUnauthorizedAsync();
    }

    /// <summary>A pending user with two codes, and two code emails in the outbox: the registration's, then a resend's.</summary>
    private async Task<TestUser> UserWithAResentCodeAsync()
    {
        var user = await _client.RegisterUserAsync();
        factory.Clock.Advance(TimeSpan.FromSeconds(30));
        using var resend = await _client.RequestNewCodeAsync(user);
        resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
        return user;
    }
}
