namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// Per-address rate limits on registration, activation and resend: the request past the limit is 429
/// <c>too-many-requests</c> with Retry-After; other addresses and other routes are unaffected. The limiter
/// counts in real time, so the window is long and the permits few; nothing sleeps. Each test is its own
/// client address, named through X-Forwarded-For from the trusted (loopback) proxy.
/// </summary>
public sealed class RateLimitTests(RateLimitTests.RateLimitedKestrelApi factory) : IClassFixture<RateLimitTests.RateLimitedKestrelApi>
{

    /// <summary>
    /// Kestrel with the per-IP rate limits on and low (a window long enough never to roll over during a run),
    /// and loopback as the trusted reverse proxy: a test names its client address with <c>X-Forwarded-For</c>.
    /// </summary>
    public sealed class RateLimitedKestrelApi : KestrelApiFixture
    {
        public const int RegistrationsPerWindow = 3;
        public const int ActivationsPerWindow = 3;
        public const int ResendsPerWindow = 2;
        public const int AccountRequestsPerWindow = 4;
        public const int OperatorRequestsPerWindow = 3;

        protected override void Configure(TestSettings settings) => settings
            .RateLimits(TimeSpan.FromHours(1), RegistrationsPerWindow, ActivationsPerWindow, ResendsPerWindow, AccountRequestsPerWindow, OperatorRequestsPerWindow)
            .TrustLoopbackProxy();
    }

    [Fact]
    public async Task Register_ReturnsTooManyRequestsWithRetryAfter_PastTheLimitOfOneAddress()
    {
        var client = ClientAt(ClientAddresses.Next());
        for (var i = 0; i < RateLimitedKestrelApi.RegistrationsPerWindow; i++)
        {
            await client.RegisterUserAsync();
        }

        var email = ApiRequests.UniqueEmail();
        using var response = await client.RegisterAsync(email, ApiRequests.DefaultPassword);

        await ShouldBeRateLimitedAsync(response);
        (await factory.Database.GetUsersAsync(email)).Should().BeEmpty();
        using var fromElsewhere = await ClientAt(ClientAddresses.Next()).RegisterAsync(email, ApiRequests.DefaultPassword);
        fromElsewhere.StatusCode.Should().Be(HttpStatusCode.Created, "the limit is per address");
    }

    [Fact]
    public async Task Register_CountsAWholeIPv6Slash64AsOneClient()
    {
        var prefix = ClientAddresses.NextIPv6Prefix();
        for (var host = 1; host <= RateLimitedKestrelApi.RegistrationsPerWindow; host++)
        {
            await ClientAt(ClientAddresses.InPrefix(prefix, host)).RegisterUserAsync();
        }

        using var sameSlash64 = await ClientAt(ClientAddresses.InPrefix(prefix, 0xffff)).RegisterAsync(ApiRequests.UniqueEmail(), ApiRequests.DefaultPassword);
        using var otherSlash64 = await ClientAt(ClientAddresses.InPrefix(ClientAddresses.NextIPv6Prefix(), 1))
            .RegisterAsync(ApiRequests.UniqueEmail(), ApiRequests.DefaultPassword);

        await ShouldBeRateLimitedAsync(sameSlash64);
        otherSlash64.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Activate_ReturnsTooManyRequests_PastTheLimitOfOneAddress_EvenWithTheRightCode()
    {
        var user = await ClientAt(ClientAddresses.Next()).RegisterUserAsync();
        var code = (await factory.Database.GetCurrentCodeAsync(user.Id)).Code;
        var client = ClientAt(ClientAddresses.Next());
        for (var i = 0; i < RateLimitedKestrelApi.ActivationsPerWindow; i++)
        {
            using var wrong = await client.ActivateAsync(user, ApiRequests.OtherThan(code));
            wrong.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        }

        using var response = await client.ActivateAsync(user, code);

        await ShouldBeRateLimitedAsync(response);
        using var fromElsewhere = await ClientAt(ClientAddresses.Next()).ActivateAsync(user, code);
        fromElsewhere.StatusCode.Should().Be(HttpStatusCode.OK, "the code was neither used nor locked by the refused try");
    }

    [Fact]
    public async Task Resend_ReturnsTooManyRequests_PastTheLimitOfOneAddress_EvenAfterTheCooldown()
    {
        var user = await ClientAt(ClientAddresses.Next()).RegisterUserAsync();
        var client = ClientAt(ClientAddresses.Next());
        for (var i = 0; i < RateLimitedKestrelApi.ResendsPerWindow; i++)
        {
            factory.Clock.Advance(ActivationDefaults.ResendCooldown);
            using var accepted = await client.RequestNewCodeAsync(user);
            accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        factory.Clock.Advance(ActivationDefaults.ResendCooldown);
        using var response = await client.RequestNewCodeAsync(user);

        await ShouldBeRateLimitedAsync(response);
        using var fromElsewhere = await ClientAt(ClientAddresses.Next()).RequestNewCodeAsync(user);
        fromElsewhere.StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task OtherRoutes_KeepAnswering_ForAnAddressPastItsRegistrationLimit()
    {
        var client = ClientAt(ClientAddresses.Next());
        var user = await client.RegisterUserAsync();
        for (var i = 1; i < RateLimitedKestrelApi.RegistrationsPerWindow; i++)
        {
            await client.RegisterUserAsync();
        }

        using var limited = await client.RegisterAsync(ApiRequests.UniqueEmail(), ApiRequests.DefaultPassword);
        limited.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);

        using var me = await client.GetMeAsync(user.Credentials);
        using var patch = await client.PatchMeAsync(user, new { password = "another good password" });
        using var live = await client.GetAsync("/health/live");
        using var list = await client.ListUsersAsync(ApiRequests.OperatorCredentials, "?limit=1");
        using var openApi = await client.GetAsync("/openapi/v1.json");
        using var activate = await client.ActivateAsync(
            BasicAuth.Header(user.Email, "another good password"), (await factory.Database.GetCurrentCodeAsync(user.Id)).Code);

        me.StatusCode.Should().Be(HttpStatusCode.OK);
        patch.StatusCode.Should().Be(HttpStatusCode.OK);
        live.StatusCode.Should().Be(HttpStatusCode.OK);
        list.StatusCode.Should().Be(HttpStatusCode.OK);
        openApi.StatusCode.Should().Be(HttpStatusCode.OK);
        activate.StatusCode.Should().Be(HttpStatusCode.OK, "each route has a limit of its own");
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("POST /email-confirmation")]
    public async Task AccountRoutes_ReturnTooManyRequests_PastTheLimitOfOneAddress(string request)
    {
        // Issue 11: GET/PATCH/DELETE /me had no limit at all (each request runs bcrypt).
        var user = await ClientAt(ClientAddresses.Next()).RegisterUserAsync();
        var client = ClientAt(ClientAddresses.Next());
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < RateLimitedKestrelApi.AccountRequestsPerWindow; i++)
        {
            using var me = await client.GetMeAsync(user);
            statuses.Add(me.StatusCode);
        }

        using var response = request switch
        {
            "GET" => await client.GetMeAsync(user),
            "PATCH" => await client.PatchMeAsync(user, new { password = "another good password" }),
            "DELETE" => await client.DeleteMeAsync(user.Credentials),
            _ => await client.ConfirmEmailChangeAsync(user, "1234"),
        };

        statuses.Should().OnlyContain(status => status == HttpStatusCode.OK);
        await ShouldBeRateLimitedAsync(response);
        using var fromElsewhere = await ClientAt(ClientAddresses.Next()).GetMeAsync(user);
        fromElsewhere.StatusCode.Should().Be(HttpStatusCode.OK, "the limit is per client");
    }

    [Fact]
    public async Task OperatorRoutes_ReturnTooManyRequests_PastTheLimitOfOneAddress()
    {
        var client = ClientAt(ClientAddresses.Next());
        for (var i = 0; i < RateLimitedKestrelApi.OperatorRequestsPerWindow; i++)
        {
            using var list = await client.ListUsersAsync(ApiRequests.OperatorCredentials, "?limit=1");
            list.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var response = await client.GetUserAsync(ApiRequests.OperatorCredentials, Guid.NewGuid().ToString());

        await ShouldBeRateLimitedAsync(response);
    }

    [Fact]
    public async Task Limits_CountRequestsRefusedForOtherReasons_SoGuessingCostsPermits()
    {
        var client = ClientAt(ClientAddresses.Next());
        for (var i = 0; i < RateLimitedKestrelApi.ActivationsPerWindow; i++)
        {
            using var unauthorized = await client.ActivateAsync(BasicAuth.Header(ApiRequests.UniqueEmail(), "a wrong password"), "1234");
            unauthorized.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        using var response = await client.ActivateAsync(BasicAuth.Header(ApiRequests.UniqueEmail(), "a wrong password"), "1234");

        await ShouldBeRateLimitedAsync(response);
    }

    private HttpClient ClientAt(string address) => factory.CreateClient().From(address);

    private static async Task ShouldBeRateLimitedAsync(HttpResponseMessage response)
    {
        await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
        response.Headers.RetryAfter.Should().NotBeNull("a 429 says when to come back");
        response.Headers.RetryAfter!.Delta.Should().BePositive().And.BeLessThanOrEqualTo(TimeSpan.FromHours(1));
        response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff).Should().BeTrue("a 429 is a response like any other");
        nosniff.Should().Equal("nosniff");
    }
}

/// <summary>
/// With no reverse proxy configured (the default), X-Forwarded-For is the client's own claim and must not
/// choose its rate-limit bucket: otherwise a new made-up address per request escapes every limit.
/// </summary>
public sealed class ForwardedHeadersTests(ForwardedHeadersTests.RateLimitedApi factory) : ApiTest<ForwardedHeadersTests.RateLimitedApi>(factory)
{
    /// <summary>The in-memory API with its per-IP rate limits on, and low, and no proxy trusted.</summary>
    public sealed class RateLimitedApi : ApiFixture
    {
        public const int RegistrationsPerWindow = 3;

        protected override void Configure(TestSettings settings) => settings.RateLimits(TimeSpan.FromMinutes(10), RegistrationsPerWindow);
    }

    [Fact]
    public async Task Register_IsLimitedPerConnection_WhenAClientForgesADifferentXForwardedForEachTime()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= RateLimitedApi.RegistrationsPerWindow; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/users")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { email = ApiRequests.UniqueEmail(), password = ApiRequests.DefaultPassword }),
            };
            request.Headers.Add("X-Forwarded-For", $"198.51.100.{i + 1}");
            using var response = await Client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        statuses.Should().Equal(
            Enumerable.Repeat(HttpStatusCode.Created, RateLimitedApi.RegistrationsPerWindow).Append(HttpStatusCode.TooManyRequests),
            "a forged X-Forwarded-For from an untrusted peer is ignored");
    }
}
