using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// Errors the framework makes on its own (unknown route, wrong method, wrong media type, too large, an
/// authentication challenge) are problems like the handlers' own: application/problem+json, a status
/// member, and a <c>type</c> from the design.
/// </summary>
public sealed class UniformErrorTests(ApiFixture factory) : ApiTest(factory)
{
    [Theory]
    [InlineData("GET", "/nowhere")]
    [InlineData("GET", "/v1")]
    [InlineData("GET", "/v1/users/me/nowhere")]
    [InlineData("GET", "/v2/users")]
    [InlineData("POST", "/v1/users/me/activations")]
    [InlineData("DELETE", "/v1/users/me/activation/0427")]
    [InlineData("GET", "/problems/not-found")]
    public async Task UnknownRoute_ReturnsNotFoundProblem(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpMethod(method), path, credentials: null);

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    [Theory]
    [InlineData("PUT", "/v1/users/me")]
    [InlineData("POST", "/v1/users/me")]
    [InlineData("PUT", "/v1/users")]
    [InlineData("DELETE", "/v1/users")]
    [InlineData("PATCH", "/v1/users")]
    [InlineData("GET", "/v1/users/me/activation")]
    [InlineData("DELETE", "/v1/users/me/activation-code")]
    [InlineData("POST", "/v1/users/3f2504e0-4f89-41d3-9a0c-0305e82c3301")]
    [InlineData("PATCH", "/v1/users/3f2504e0-4f89-41d3-9a0c-0305e82c3301")]
    public async Task WrongMethod_ReturnsMethodNotAllowedProblem_WithAllow(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpMethod(method), path, credentials: null, JsonContent.Create(new { }));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "/problems/method-not-allowed");
        var allow = response.Content.Headers.Allow;
        allow.Should().NotBeEmpty("a 405 names the methods the route takes").And.NotContain(method);
        problem.GetProperty("detail").GetString().Should().Be($"Allowed: {string.Join(", ", allow)}.");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task NonJsonBody_ReturnsUnsupportedMediaTypeProblem(string contentType)
    {
        var email = ApiRequests.UniqueEmail();
        using var content = new StringContent($$"""{"email":"{{email}}","password":"{{ApiRequests.DefaultPassword}}"}""", Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await Client.PostAsync("/v1/users", content);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "/problems/unsupported-media-type");
        problem.GetProperty("title").GetString().Should().Contain("application/json", "the answer says what to send instead");
        (await Environment.Database.GetUsersAsync(email)).Should().BeEmpty();
    }

    [Theory]
    [InlineData("POST", "/v1/users")]
    [InlineData("POST", "/v1/users/me/activation")]
    [InlineData("PATCH", "/v1/users/me")]
    public async Task JsonWithACharsetNobodyKnows_ReturnsUnsupportedMediaTypeProblem_NotAServerError(string method, string path)
    {
        var user = await Client.RegisterUserAsync();
        var email = ApiRequests.UniqueEmail();
        using var content = new StringContent($$"""{"email":"{{email}}","password":"{{ApiRequests.DefaultPassword}}","code":"0427"}""", Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json; charset=bogus");

        using var response = await Client.SendAsync(new HttpMethod(method), path, user.Credentials, content);

        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "/problems/unsupported-media-type");
        (await Environment.Database.GetUsersAsync(email)).Should().BeEmpty();
    }

    [Fact]
    public async Task JsonWithAQuotedCharset_ReturnsUnsupportedMediaTypeProblem_NotAServerError()
    {
        // RFC 9110 allows charset="utf-8", but ReadFromJsonAsync does not unquote it: 415 rather than a 500.
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"email":"{{ApiRequests.UniqueEmail()}}","password":"{{ApiRequests.DefaultPassword}}"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=\"utf-8\"").Should().BeTrue();

        using var response = await Client.PostAsync("/v1/users", content);

        ((int)response.StatusCode).Should().BeOneOf([201, 415], await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("UTF-16")]
    public async Task JsonInACharsetDotNetKnows_IsRead(string charset)
    {
        var email = ApiRequests.UniqueEmail();
        var encoding = charset.Contains("16", StringComparison.Ordinal) ? Encoding.Unicode : Encoding.UTF8;
        using var content = new ByteArrayContent(encoding.GetBytes($$"""{"email":"{{email}}","password":"{{ApiRequests.DefaultPassword}}"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}").Should().BeTrue();

        using var response = await Client.PostAsync("/v1/users", content);

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("GET", "/v1/users/me")]
    [InlineData("PATCH", "/v1/users/me")]
    [InlineData("DELETE", "/v1/users/me")]
    [InlineData("POST", "/v1/users/me/activation")]
    [InlineData("POST", "/v1/users/me/activation-code")]
    [InlineData("POST", "/v1/users/me/email-confirmation")]
    public async Task UserRoute_ReturnsUnauthorizedProblemWithBasicChallenge_WithoutCredentials(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpMethod(method), path, credentials: null, JsonContent.Create(new { code = "0427" }));

        await response.ShouldBeUnauthorizedAsync();
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/problem+json")]
    [InlineData("*/*")]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")]
    [InlineData("text/html")]
    [InlineData("application/xml")]
    [InlineData("text/plain")]
    public async Task Errors_AreProblemJson_WhateverTheClientSaysItAccepts(string accept)
    {
        using var unknownRoute = new HttpRequestMessage(HttpMethod.Get, "/nowhere");
        unknownRoute.Headers.TryAddWithoutValidation("Accept", accept);
        using var unauthorized = new HttpRequestMessage(HttpMethod.Get, "/v1/users/me");
        unauthorized.Headers.TryAddWithoutValidation("Accept", accept);

        using var wrongMethod = new HttpRequestMessage(HttpMethod.Put, "/v1/users/me");
        wrongMethod.Headers.TryAddWithoutValidation("Accept", accept);

        using var notFound = await Client.SendAsync(unknownRoute);
        using var challenge = await Client.SendAsync(unauthorized);
        using var notAllowed = await Client.SendAsync(wrongMethod);

        await notFound.ShouldBeProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        await challenge.ShouldBeUnauthorizedAsync();
        await notAllowed.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "/problems/method-not-allowed");
        using var unsupported = await Client.SendAsync(WithAccept(new HttpRequestMessage(HttpMethod.Post, "/v1/users") { Content = new StringContent("{}", Encoding.UTF8, "text/plain") }, accept));
        await unsupported.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "/problems/unsupported-media-type");
    }

    [Fact]
    public async Task EveryProblemType_IsOneTheDesignNames()
    {
        var user = await Client.RegisterUserAsync();
        var requests = new List<Func<Task<HttpResponseMessage>>>
        {
            () => Client.GetAsync("/nowhere"),
            () => Client.PutAsync("/v1/users/me", JsonContent.Create(new { })),
            () => Client.PostAsync("/v1/users", new StringContent("{}", Encoding.UTF8, "text/plain")),
            () => Client.PostAsync("/v1/users", new StringContent("{", Encoding.UTF8, "application/json")),
            () => Client.RegisterAsync(user.Email, ApiRequests.DefaultPassword),
            () => Client.GetMeAsync(credentials: null),
            () => Client.ListUsersAsync(credentials: null),
            () => Client.GetUserAsync(ApiRequests.OperatorCredentials, "not-a-uuid"),
            () => Client.GetUserAsync(ApiRequests.OperatorCredentials, Guid.NewGuid().ToString()),
            () => Client.ActivateAsync(user, "12"),
            () => Client.RequestNewCodeAsync(user),
            () => Client.ConfirmEmailChangeAsync(user, "1234"),
        };

        foreach (var send in requests)
        {
            using var response = await send();
            var body = await response.Content.ReadAsStringAsync();
            ((int)response.StatusCode).Should().BeInRange(400, 599, body);
            (response.Content.Headers.ContentType?.MediaType).Should().Be(ProblemAssertions.ProblemJson, body);
            (await response.ReadJsonAsync()).GetProperty("type").GetString().Should().BeOneOf(ProblemAssertions.DesignTypes, body);
        }
    }

    private static HttpRequestMessage WithAccept(HttpRequestMessage request, string accept)
    {
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return request;
    }
}
