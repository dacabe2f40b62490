using System.Text;

namespace Registration.Api.Tests.Api;

/// <summary>GET /v1/users/me, and Basic authentication as every /me route sees it.</summary>
public sealed class CurrentUserTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task GetMe_ReturnsTheUser_WhenCredentialsAreRight()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.GetMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.ReadJsonAsync();
        body.GetProperty("id").GetGuid().Should().Be(user.Id);
        body.GetProperty("email").GetString().Should().Be(user.Email);
        body.GetProperty("status").GetString().Should().Be("pending");
        body.EnumerateObject().Select(property => property.Name)
            .Should().BeEquivalentTo(ApiRequests.UserBodyProperties);
    }

    [Fact]
    public async Task GetMe_ShowsTheAccountActive_AfterActivation()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.GetMeAsync(user.Credentials);

        var body = await response.ReadJsonAsync();
        body.GetProperty("status").GetString().Should().Be("active");
        body.GetProperty("activatedAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow());
    }

    [Fact]
    public async Task GetMe_AcceptsTheEmailInAnyCase()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.GetMeAsync(BasicAuth.Header(user.Email.ToUpperInvariant(), user.Password));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GetMe_AcceptsAPasswordContainingColonsAndNonAsciiCharacters()
    {
        var user = await Client.RegisterUserAsync(password: "pass:wörd:€uro");

        using var response = await Client.GetMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GetMe_ReturnsUnauthorized_WhenPasswordIsWrong()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.GetMeAsync(BasicAuth.Header(user.Email, user.Password + "!"));

        await response.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task GetMe_ReturnsTheSameUnauthorized_ForAnUnknownEmailAsForAWrongPassword()
    {
        var user = await Client.RegisterUserAsync();

        using var unknown = await Client.GetMeAsync(BasicAuth.Header(ApiRequests.UniqueEmail(), user.Password));
        using var wrong = await Client.GetMeAsync(BasicAuth.Header(user.Email, "wrong password"));

        await unknown.ShouldBeUnauthorizedAsync();
        await wrong.ShouldBeUnauthorizedAsync();
        WithoutTraceId(await unknown.ReadJsonAsync()).Should().Equal(WithoutTraceId(await wrong.ReadJsonAsync()));
    }

    [Theory]
    [InlineData("Basic")]
    [InlineData("Basic ")]
    [InlineData("Basic %%%%")]
    [InlineData("Basic dXNlcg")] // base64 without its padding
    [InlineData("Digest username=\"user\"")]
    [InlineData("Basic OnBhc3N3b3JkMTIz")] // ":password123": empty email
    [InlineData("Basic dXNlckBleGFtcGxlLmNvbTo=")] // "user@example.com:": empty password
    [InlineData("Basic gICAgA==")] // bytes 0x80..: not UTF-8
    public async Task GetMe_ReturnsUnauthorized_NeverAServerError_WhenTheHeaderIsMalformed(string authorization)
    {
        using var response = await Client.SendWithRawAuthorizationAsync(HttpMethod.Get, "/v1/users/me", authorization);

        await response.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task GetMe_ReturnsUnauthorized_WhenTheHeaderIsHuge()
    {
        var user = await Client.RegisterUserAsync();
        var huge = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user.Email}:{user.Password}{new string('x', 16_000)}"));

        using var response = await Client.SendWithRawAuthorizationAsync(HttpMethod.Get, "/v1/users/me", huge);

        await response.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task GetMe_ReturnsUnauthorized_WhenTwoAuthorizationHeadersAreSent()
    {
        var user = await Client.RegisterUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/users/me");
        request.Headers.TryAddWithoutValidation("Authorization", [user.Credentials.ToString(), user.Credentials.ToString()]);

        using var response = await Client.SendAsync(request);

        await response.ShouldBeUnauthorizedAsync();
    }

    private static Dictionary<string, string> WithoutTraceId(System.Text.Json.JsonElement problem) =>
        problem.EnumerateObject().Where(member => member.Name != "traceId").ToDictionary(member => member.Name, member => member.Value.GetRawText());
}
