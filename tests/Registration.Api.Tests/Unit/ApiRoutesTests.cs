namespace Registration.Api.Tests.Unit;

/// <summary>
/// The input sweep's oracle finds the route a request reaches as ASP.NET Core's router does
/// (<see cref="Api.InputSweepTests"/> checks each case against the running API too).
/// </summary>
public sealed class ApiRoutesTests
{
    private const string UserId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

    /// <summary>Method, path as sent, and the route the router picks (null: 404 or 405).</summary>
    public static TheoryData<string, string, string?> Cases => new()
    {
        // CI seed byzcis6MP2d4: the API registered a user (201) while the oracle, comparing text, expected no row.
        { "POST", "/V1/USERS", "POST /v1/users" },
        { "POST", "/v1/users", "POST /v1/users" },
        { "POST", "/v1/users/", "POST /v1/users" },
        { "post", "/v1/Users", "POST /v1/users" },
        { "GET", "/V1/Users/ME", "GET /v1/users/me" },
        { "PATCH", "/v1/users/me/", "PATCH /v1/users/me" },
        { "DELETE", "/v1/users/ME", "DELETE /v1/users/me" },
        { "POST", "/V1/USERS/ME/ACTIVATION-CODE", "POST /v1/users/me/activation-code" },
        { "POST", "/v1/users/me/email-confirmation/", "POST /v1/users/me/email-confirmation" },
        { "GET", "/v1/users/me/email-confirmation", null },
        { "POST", "/v1/users/me/Activation", "POST /v1/users/me/activation" },
        { "GET", "/v1/users", "GET /v1/users" },
        { "GET", $"/v1/users/{UserId}", "GET /v1/users/{id}" },
        { "DELETE", $"/v1/users/{UserId.ToUpperInvariant()}", "DELETE /v1/users/{id}" },
        { "GET", "/v1/users/not-a-uuid", "GET /v1/users/{id}" },
        { "GET", "/v1/users/%2F", "GET /v1/users/{id}" },
        { "GET", "/v1/users/%6De", "GET /v1/users/me" },
        { "GET", "/v1/users/%2e%2e", null },
        { "GET", "/v1/users/%2e%2e/users", "GET /v1/users" },
        { "GET", "/Health/Live", "* /health/live" },
        { "HEAD", "/health/live", "* /health/live" },
        { "POST", "/health/ready", "* /health/ready" },
        { "OPTIONS", "/metrics", "* /metrics" },
        { "GET", "/openapi/v1.json", "GET /openapi/{documentName}.json" },
        { "GET", "/docs", "GET /docs/{*path}" },
        { "PUT", "/v1/users", null },
        { "POST", "/v1/users/me", null },
        { "POST", $"/v1/users/{UserId}", null },
        { "HEAD", "/openapi/v1.json", null },
        { "GET", "/", null },
        { "GET", "/v1", null },
        { "GET", "/v2/users", null },
        { "GET", "/v1//users", null },
        { "GET", "/v1/users/me/activation/extra", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Match_FindsTheRouteTheRouterFinds(string method, string path, string? route) =>
        ApiRoutes.Match(method, path).Should().Be(route);
}
