using System.Net.Http.Headers;
using System.Text;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>One real Kestrel server for the classes that need real connections (chunked bodies, headers).</summary>
[CollectionDefinition(Name)]
public sealed class KestrelApiGroup : ICollectionFixture<KestrelApiFixture>
{
    public const string Name = "Kestrel API";
}

/// <summary>
/// Request bodies over 4 KB are refused with 413 (a problem of type payload-too-large), whether the client
/// announces the size (Content-Length) or not (chunked), and nothing is written.
/// </summary>
[Collection(KestrelApiGroup.Name)]
public sealed class BodyLimitTests(KestrelApiFixture factory)
{
    private const int Limit = 4096;

    private readonly HttpClient _client = factory.CreateStreamingClient();

    public static TheoryData<string, string> JsonRoutes => new()
    {
        { "POST", "/v1/users" },
        { "POST", "/v1/users/me/activation" },
        { "PATCH", "/v1/users/me" },
        { "POST", "/v1/users/me/email-confirmation" },
    };

    [Theory]
    [MemberData(nameof(JsonRoutes))]
    [InlineData("POST", "/v1/users/me/activation-code")]
    public async Task Route_ReturnsPayloadTooLarge_WhenTheAnnouncedBodyIsOver4KB(string method, string path)
    {
        var user = await _client.RegisterUserAsync();
        var body = JsonOfSize(Limit + 1, ApiRequests.UniqueEmail());

        using var response = await SendAsync(method, path, user.Credentials, new StringContent(body, Encoding.UTF8, "application/json"));

        await ShouldBeTooLargeAsync(response);
    }

    [Theory]
    [MemberData(nameof(JsonRoutes))]
    public async Task JsonRoute_ReturnsPayloadTooLarge_NotAServerError_WhenAChunkedBodyGrowsPast4KB(string method, string path)
    {
        var user = await _client.RegisterUserAsync();
        var newEmail = ApiRequests.UniqueEmail();
        var body = JsonOfSize(Limit + 1024, newEmail);

        using var response = await SendAsync(method, path, user.Credentials, new UnknownLengthContent(body));

        await ShouldBeTooLargeAsync(response);
        (await factory.Database.GetUsersAsync(newEmail)).Should().BeEmpty("a refused body changes nothing");
        using var me = await _client.GetMeAsync(user.Credentials);
        me.StatusCode.Should().Be(HttpStatusCode.OK, "the password was not changed");
    }

    [Fact]
    public async Task Register_AcceptsABodyOfExactly4KB_AndAChunkedOneUnderIt()
    {
        var announcedEmail = ApiRequests.UniqueEmail();
        var chunkedEmail = ApiRequests.UniqueEmail();

        // Kestrel counts a chunked body's framing (a few bytes per chunk) against the limit too, so a
        // chunked body of exactly 4096 bytes of JSON is already refused; 3.5 KB goes through.
        using var announced = await SendAsync("POST", "/v1/users", null, new StringContent(JsonOfSize(Limit, announcedEmail), Encoding.UTF8, "application/json"));
        using var chunked = await SendAsync("POST", "/v1/users", null, new UnknownLengthContent(JsonOfSize(3584, chunkedEmail)));

        announced.StatusCode.Should().Be(HttpStatusCode.Created, await announced.Content.ReadAsStringAsync());
        chunked.StatusCode.Should().Be(HttpStatusCode.Created, await chunked.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Register_ReturnsPayloadTooLarge_ForOneByteOver4KB_AndCreatesNoUser()
    {
        var email = ApiRequests.UniqueEmail();

        using var response = await SendAsync("POST", "/v1/users", null, new StringContent(JsonOfSize(Limit + 1, email), Encoding.UTF8, "application/json"));

        await ShouldBeTooLargeAsync(response);
        (await factory.Database.GetUsersAsync(email)).Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Register_ClosesTheConnectionAfterA413_SoAKeepAliveClientsNextRequestSucceeds(bool chunked)
    {
        for (var i = 0; i < 10; i++)
        {
            var body = JsonOfSize(Limit + 100, ApiRequests.UniqueEmail());
            using var refused = await SendAsync("POST", "/v1/users", null,
                chunked ? new UnknownLengthContent(body) : new StringContent(body, Encoding.UTF8, "application/json"));
            await ShouldBeTooLargeAsync(refused);
            refused.Headers.ConnectionClose.Should().BeTrue("the server does not drain an oversized body, it closes the connection");

            using var next = await _client.GetAsync("/health/live");

            next.StatusCode.Should().Be(HttpStatusCode.OK, "the next request goes on a new connection");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Register_AnswersA413WithAProblemBody_EvenWhenTheClientAcceptsOnlyHtml(bool chunked)
    {
        var body = JsonOfSize(Limit + 100, ApiRequests.UniqueEmail());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/users")
        {
            Content = chunked ? new UnknownLengthContent(body) : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("text/html");

        using var response = await _client.SendAsync(request);

        await ShouldBeTooLargeAsync(response);
    }

    /// <summary>
    /// A JSON object that each route would accept (an email, a password and a code), padded with spaces to
    /// exactly <paramref name="bytes"/> UTF-8 bytes: only its size can be the reason for a refusal.
    /// </summary>
    private static string JsonOfSize(int bytes, string email)
    {
        var json = $$"""{"email":"{{email}}","password":"a good new password","code":"0000"}""";
        bytes.Should().BeGreaterThanOrEqualTo(json.Length);
        return json[..^1] + new string(' ', bytes - json.Length) + "}";
    }

    private async Task<HttpResponseMessage> SendAsync(string method, string path, AuthenticationHeaderValue? credentials, HttpContent content)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = content };
        request.Headers.Authorization = credentials;
        return await _client.SendAsync(request);
    }

    private static async Task ShouldBeTooLargeAsync(HttpResponseMessage response) =>
        (await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "/problems/payload-too-large"))
            .GetProperty("detail").GetString().Should().Be($"The request body must be at most {Limit} bytes.");
}
