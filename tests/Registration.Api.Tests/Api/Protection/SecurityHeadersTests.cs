using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// Security headers on every kind of response, checked on a real Kestrel server (TestServer never sends a
/// <c>Server</c> header, so only a real server shows that the banner is off).
/// </summary>
[Collection(KestrelApiGroup.Name)]
public sealed class SecurityHeadersTests(KestrelApiFixture factory)
{
    private readonly HttpClient _client = factory.CreateStreamingClient();

    [Fact]
    public async Task EveryKindOfResponse_CarriesNosniffAndFrameDenial_AndNoServerBanner()
    {
        var responses = await SampleResponsesAsync();

        foreach (var (what, response) in responses)
        {
            response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff).Should().BeTrue("{0} sends X-Content-Type-Options", what);
            nosniff.Should().Equal(["nosniff"], "on {0}", what);
            response.Headers.TryGetValues("X-Frame-Options", out var frame).Should().BeTrue("{0} sends X-Frame-Options", what);
            frame!.Single().Should().BeOneOf("DENY", "SAMEORIGIN");
            response.Headers.Server.Should().BeEmpty("{0} must not name the server software", what);
            response.Headers.Contains("X-Powered-By").Should().BeFalse("on {0}", what);
            response.Dispose();
        }
    }

    [Fact]
    public async Task EveryV1Response_IsNotStored_SuccessOrError()
    {
        var responses = await SampleResponsesAsync();

        foreach (var (what, response) in responses.Where(sample => sample.What.Contains("/v1/", StringComparison.Ordinal)))
        {
            response.Headers.CacheControl.Should().NotBeNull("{0} sends Cache-Control", what);
            response.Headers.CacheControl!.NoStore.Should().BeTrue("{0} carries account data and must not be stored", what);
            response.Dispose();
        }
    }

    /// <summary>One response of each kind: successes, the framework's errors, the handlers' errors, the body limit.</summary>
    private async Task<List<(string What, HttpResponseMessage Response)>> SampleResponsesAsync()
    {
        var user = await _client.RegisterUserAsync();
        var samples = new List<(string, HttpResponseMessage)>
        {
            ("200 GET /health/live", await _client.GetAsync("/health/live")),
            ("200 GET /openapi/v1.json", await _client.GetAsync("/openapi/v1.json")),
            ("200 GET /docs/", await _client.GetAsync("/docs/")),
            ("302 GET /docs", await _client.GetAsync("/docs")),
            ("201 POST /v1/users/", await _client.RegisterAsync(ApiRequests.UniqueEmail(), ApiRequests.DefaultPassword)),
            ("200 GET /v1/users/me", await _client.GetMeAsync(user.Credentials)),
            ("200 GET /v1/users/ (operator)", await _client.ListUsersAsync(ApiRequests.OperatorCredentials)),
            ("400 POST /v1/users/", await _client.RegisterAsync("not-an-email", ApiRequests.DefaultPassword)),
            ("401 GET /v1/users/me", await _client.GetMeAsync(credentials: null)),
            ("401 GET /v1/users/ (operator)", await _client.ListUsersAsync(credentials: null)),
            ("404 GET /v1/users/{id}", await _client.GetUserAsync(ApiRequests.OperatorCredentials, Guid.NewGuid().ToString())),
            ("404 GET /v1/nowhere/", await _client.GetAsync("/v1/nowhere")),
            ("404 GET /nowhere", await _client.GetAsync("/nowhere")),
            ("405 PUT /v1/users/me", await _client.PutAsync("/v1/users/me", JsonContent.Create(new { }))),
            ("409 POST /v1/users/", await _client.RegisterAsync(user.Email, ApiRequests.DefaultPassword)),
            ("415 POST /v1/users/", await _client.PostAsync("/v1/users", new StringContent("{}", Encoding.UTF8, "text/plain"))),
            ("413 POST /v1/users/ (Content-Length)", await _client.PostAsync("/v1/users", new StringContent(new string(' ', 5000) + "{}", Encoding.UTF8, "application/json"))),
            ("413 PATCH /v1/users/me (chunked)", await SendChunkedPatchAsync(user.Credentials)),
        };
        return samples;
    }

    private async Task<HttpResponseMessage> SendChunkedPatchAsync(AuthenticationHeaderValue credentials)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, "/v1/users/me")
        {
            Content = new UnknownLengthContent(new string(' ', 5000) + "{}"),
        };
        request.Headers.Authorization = credentials;
        var response = await _client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        return response;
    }
}
