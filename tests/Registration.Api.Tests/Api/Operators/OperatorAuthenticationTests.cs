using System.Net.Http.Headers;
using System.Text;

namespace Registration.Api.Tests.Api.Operators;

/// <summary>The operator routes open only to <c>Authorization: Bearer {Admin:ApiKey}</c>: anything else is 401.</summary>
public sealed class OperatorAuthenticationTests(ApiFixture factory) : ApiTest(factory)
{
    private const string UnknownId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

    public static TheoryData<string, string> OperatorRoutes => new()
    {
        { "GET", "/v1/users" },
        { "GET", $"/v1/users/{UnknownId}" },
        { "DELETE", $"/v1/users/{UnknownId}" },
    };

    public static TheoryData<string> WrongAuthorizations => new()
    {
        "Bearer wrong-key",
        $"Bearer {TestSettings.OperatorKey}x",
        $"Bearer {TestSettings.OperatorKey[..^1]}",
        $"Bearer {TestSettings.OperatorKey.ToUpperInvariant()}",
        "Bearer",
        "Bearer ",
        $"Token {TestSettings.OperatorKey}",
        TestSettings.OperatorKey,
        $"Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:" + TestSettings.OperatorKey))}",
        $"Bearer {new string('k', 5000)}",
        "Bearer ключ",
    };

    [Theory]
    [MemberData(nameof(OperatorRoutes))]
    public async Task OperatorRoute_ReturnsUnauthorizedWithABearerChallenge_WithoutAnAuthorizationHeader(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpMethod(method), path, credentials: null);

        await ShouldBeOperatorUnauthorizedAsync(response);
    }

    [Theory]
    [MemberData(nameof(WrongAuthorizations))]
    public async Task ListUsers_ReturnsUnauthorized_ForAnythingButTheOperatorKey(string authorization)
    {
        using var response = await Client.SendWithRawAuthorizationAsync(HttpMethod.Get, "/v1/users", authorization);

        await ShouldBeOperatorUnauthorizedAsync(response);
    }

    [Theory]
    [MemberData(nameof(OperatorRoutes))]
    public async Task OperatorRoute_ReturnsUnauthorized_ForAWrongKey(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpMethod(method), path, new AuthenticationHeaderValue("Bearer", "not-the-key"));

        await ShouldBeOperatorUnauthorizedAsync(response);
    }

    [Fact]
    public async Task OperatorRoutes_DoNotOpen_ToAUsersOwnValidBasicCredentials()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var list = await Client.ListUsersAsync(user.Credentials);
        using var get = await Client.GetUserAsync(user.Credentials, user.Id.ToString());
        using var delete = await Client.DeleteUserAsync(user.Credentials, user.Id.ToString());

        await ShouldBeOperatorUnauthorizedAsync(list);
        await ShouldBeOperatorUnauthorizedAsync(get);
        await ShouldBeOperatorUnauthorizedAsync(delete);
        (await Environment.Database.GetUsersAsync(user.Email)).Should().ContainSingle("the user was not deleted");
    }

    [Fact]
    public async Task OperatorRoutes_AcceptTheKey_WhateverTheCaseOfTheSchemeName()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.SendWithRawAuthorizationAsync(
            HttpMethod.Get, $"/v1/users/{user.Id}", $"bearer {TestSettings.OperatorKey}");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task OperatorRoutes_DoNotAskForBasicCredentials()
    {
        using var response = await Client.ListUsersAsync(credentials: null);

        response.Headers.WwwAuthenticate.Should().NotContain(challenge => challenge.Scheme == "Basic");
    }

    private static async Task ShouldBeOperatorUnauthorizedAsync(HttpResponseMessage response)
    {
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        response.Headers.WwwAuthenticate.Should().ContainSingle().Which.Scheme.Should().Be("Bearer");
    }
}

/// <summary>With no <c>Admin:ApiKey</c> configured the operator API is closed: 403 for everyone, never open.</summary>
public sealed class OperatorApiWithoutKeyTests(OperatorApiWithoutKeyTests.ApiWithoutOperatorKey factory) : ApiTest<OperatorApiWithoutKeyTests.ApiWithoutOperatorKey>(factory)
{
    private const string UnknownId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

    public sealed class ApiWithoutOperatorKey : ApiFixture
    {
        protected override void Configure(TestSettings settings) => settings.Operator(key: null);
    }

    public static TheoryData<string, string, string?> RoutesAndAuthorizations()
    {
        var data = new TheoryData<string, string, string?>();
        string?[] authorizations =
        [
            null,
            "Bearer ",
            "Bearer anything",
            $"Bearer {TestSettings.OperatorKey}",
            "Basic dXNlckBleGFtcGxlLmNvbTpwYXNzd29yZDEyMw==",
        ];
        foreach (var authorization in authorizations)
        {
            data.Add("GET", "/v1/users", authorization);
            data.Add("GET", "/v1/users?limit=100", authorization);
            data.Add("GET", $"/v1/users/{UnknownId}", authorization);
            data.Add("DELETE", $"/v1/users/{UnknownId}", authorization);
            data.Add("GET", "/v1/users/not-a-uuid", authorization);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoutesAndAuthorizations))]
    public async Task OperatorRoute_ReturnsForbidden_WhenNoKeyIsConfigured(string method, string path, string? authorization)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await Client.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
    }

    [Fact]
    public async Task DeleteUser_DeletesNothing_WhenNoKeyIsConfigured()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.DeleteUserAsync(user.Credentials, user.Id.ToString());

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "/problems/forbidden");
        (await Environment.Database.GetUsersAsync(user.Email)).Should().ContainSingle();
    }

    [Fact]
    public async Task UserRoutes_StillWork_WhenNoOperatorKeyIsConfigured()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.GetMeAsync(user.Credentials);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
