using System.Net;

namespace Registration.Api.Tests.Api;

/// <summary>POST /v1/users answers 429 <c>too-many-requests</c> past the per-address limit.</summary>
public sealed class RegistrationRateLimitTests(Protection.ForwardedHeadersTests.RateLimitedApi factory) : IClassFixture<Protection.ForwardedHeadersTests.RateLimitedApi>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Register_ReturnsTooManyRequestsWithRetryAfter_PastTheLimitPerAddress()
    {
        for (var i = 0; i < Protection.ForwardedHeadersTests.RateLimitedApi.RegistrationsPerWindow; i++)
        {
            await _client.RegisterUserAsync();
        }

        var email = ApiRequests.UniqueEmail();
        using var response = await _client.RegisterAsync(email, ApiRequests.DefaultPassword);

        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
        response.Headers.RetryAfter?.Delta.Should().BePositive();
        (await factory.Database.GetUsersAsync(email)).Should().BeEmpty();
    }
}
