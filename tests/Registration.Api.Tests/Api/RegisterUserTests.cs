using System.Net.Http.Json;
using System.Text;

namespace Registration.Api.Tests.Api;

/// <summary>POST /v1/users: 201, 400 for each rule, 409 email-taken, 415.</summary>
public sealed class RegisterUserTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task Register_ReturnsCreated_WithLocationAndPendingUserBody()
    {
        var email = ApiRequests.UniqueEmail();

        using var response = await Client.RegisterAsync(email, ApiRequests.DefaultPassword);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var body = await response.ReadJsonAsync();
        var id = body.GetProperty("id").GetGuid();
        id.Should().NotBeEmpty();
        response.Headers.Location.Should().Be(new Uri($"/v1/users/{id}", UriKind.Relative));
        body.GetProperty("email").GetString().Should().Be(email);
        body.GetProperty("status").GetString().Should().Be("pending");
        body.GetProperty("createdAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow());
        body.GetProperty("activatedAt").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task Register_NeverReturnsThePasswordOrItsHash()
    {
        var password = "a password nobody guesses";

        using var response = await Client.RegisterAsync(ApiRequests.UniqueEmail(), password);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var body = await response.ReadJsonAsync();
        body.EnumerateObject().Select(property => property.Name)
            .Should().BeEquivalentTo(ApiRequests.UserBodyProperties);
        var text = await response.Content.ReadAsStringAsync();
        text.Should().NotContain(password).And.NotContain("$2");
    }

    [Fact]
    public async Task Register_StoresTheEmailTrimmed_AndThePasswordOnlyAsABcryptHash()
    {
        var email = ApiRequests.UniqueEmail();

        using var response = await Client.RegisterAsync($"  {email}\t", ApiRequests.DefaultPassword);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        (await response.ReadJsonAsync()).GetProperty("email").GetString().Should().Be(email);
        var stored = (await Environment.Database.GetUsersAsync(email)).Should().ContainSingle().Subject;
        stored.Email.Should().Be(email);
        stored.PasswordHash.Should().StartWith("$2").And.NotContain(ApiRequests.DefaultPassword);
        BCrypt.Net.BCrypt.Verify(ApiRequests.DefaultPassword, stored.PasswordHash).Should().BeTrue();
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("no-at-sign.example.com")]
    [InlineData("two@at@example.com")]
    [InlineData("@example.com")]
    [InlineData("user@")]
    [InlineData("user@localhost")]
    [InlineData("user@.com")]
    [InlineData("user@example.")]
    [InlineData("user@example..com")]
    [InlineData("us er@example.com")]
    [InlineData("user@exa\tmple.com")]
    public async Task Register_ReturnsValidationFailed_WhenEmailBreaksARule(string email)
    {
        using var response = await Client.RegisterAsync(email, ApiRequests.DefaultPassword);

        await response.ShouldBeValidationProblemAsync("email");
    }

    [Theory]
    [InlineData("a:b@example.test")] // Basic auth splits at the first colon: this account could never sign in
    [InlineData("a\u200Bb@example.test")] // zero-width space
    [InlineData("a\u202Eb@example.test")] // right-to-left override
    [InlineData("\uFEFFab@example.test")] // byte order mark
    [InlineData("a\u2028b@example.test")] // line separator
    public async Task Register_ReturnsValidationFailed_ForAColonOrAnInvisibleCharacter(string email)
    {
        // Issue 11: each of these was registered (201).
        using var response = await Client.RegisterAsync(email, ApiRequests.DefaultPassword);

        await response.ShouldBeValidationProblemAsync("email");
    }

    [Fact]
    public async Task Register_TreatsComposedAndDecomposedAccents_AsTheSameAddress()
    {
        // Issue 11: "é" as one code point and as "e" + combining acute were two accounts.
        var local = $"jos\u00E9-{Guid.NewGuid():N}";
        var composed = $"{local}@example.test";
        var decomposed = composed.Normalize(NormalizationForm.FormD);
        decomposed.Should().NotBe(composed);

        using var first = await Client.RegisterAsync(decomposed, ApiRequests.DefaultPassword);
        using var second = await Client.RegisterAsync(composed.ToUpperInvariant(), "another password");

        first.StatusCode.Should().Be(HttpStatusCode.Created);
        await second.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        (await first.ReadJsonAsync()).GetProperty("email").GetString().Should().Be(composed, "the address is stored in NFC");
        using var signIn = await Client.GetMeAsync(BasicAuth.Header(composed.ToUpperInvariant(), ApiRequests.DefaultPassword));
        signIn.StatusCode.Should().Be(HttpStatusCode.OK, "any form and case of the address signs in");
    }

    [Fact]
    public async Task Register_ReturnsValidationFailed_WhenEmailIsLongerThan254Characters()
    {
        var email = new string('a', 255 - "@example.com".Length) + "@example.com";
        email.Length.Should().Be(255);

        using var response = await Client.RegisterAsync(email, ApiRequests.DefaultPassword);

        await response.ShouldBeValidationProblemAsync("email");
    }

    [Fact]
    public async Task Register_AcceptsAnEmailOfExactly254Characters()
    {
        var suffix = $"{Guid.NewGuid():N}@example.com";
        var email = new string('a', 254 - suffix.Length) + suffix;

        using var response = await Client.RegisterAsync(email, ApiRequests.DefaultPassword);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("7 chars")]
    public async Task Register_ReturnsValidationFailed_WhenPasswordIsShorterThan8Characters(string password)
    {
        using var response = await Client.RegisterAsync(ApiRequests.UniqueEmail(), password);

        await response.ShouldBeValidationProblemAsync("password");
    }

    [Fact]
    public async Task Register_ReturnsValidationFailed_WhenPasswordIsLongerThan72Utf8Bytes()
    {
        var password = new string('€', 25); // 25 characters, 75 bytes

        using var response = await Client.RegisterAsync(ApiRequests.UniqueEmail(), password);

        await response.ShouldBeValidationProblemAsync("password");
    }

    [Fact]
    public async Task Register_AcceptsAPasswordOfExactly72Utf8Bytes()
    {
        var password = new string('€', 24);
        Encoding.UTF8.GetByteCount(password).Should().Be(72);

        using var response = await Client.RegisterAsync(ApiRequests.UniqueEmail(), password);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Register_ReportsEveryBrokenRuleAtOnce()
    {
        using var response = await Client.RegisterAsync("not-an-email", "short");

        var problem = await response.ShouldBeValidationProblemAsync("email");
        problem.GetProperty("errors").TryGetProperty("password", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Register_ReturnsValidationFailed_WhenFieldsAreMissing()
    {
        using var response = await Client.PostAsync("/v1/users", ApiRequests.Json("{}"));

        var problem = await response.ShouldBeValidationProblemAsync("email");
        problem.GetProperty("errors").TryGetProperty("password", out _).Should().BeTrue();
    }

    [Theory]
    [InlineData("{", "body")]
    [InlineData("not json", "body")]
    [InlineData("null", "body")]
    [InlineData("[]", "body")]
    [InlineData("""{"email": 42, "password": "long enough password"}""", "email")]
    [InlineData("""{"email": "a@example.com", "password": 12345678}""", "password")]
    [InlineData("""{"email": ["a@example.com"], "password": "long enough password"}""", "email")]
    public async Task Register_ReturnsValidationFailed_WhenBodyIsNotTheExpectedJson(string json, string field)
    {
        using var response = await Client.PostAsync("/v1/users", ApiRequests.Json(json));

        await response.ShouldBeValidationProblemAsync(field);
    }

    [Theory]
    [InlineData("{\"email\":\"a@example.com\",\"password\":", 1, 37)]
    [InlineData("{\"email\":\"a@example.com\",\"password\":\"long enough password\"}}", 1, 60)]
    [InlineData("{\n  \"email\": \"a@example.com\",\n  \"password\": long enough\n}", 3, 15)]
    public async Task Register_SaysWhereTheJsonIsMalformed_NotThatAFieldIsInvalid(string json, int line, int position)
    {
        using var response = await Client.PostAsync("/v1/users", ApiRequests.Json(json));

        var problem = await response.ShouldBeValidationProblemAsync("body");
        problem.GetProperty("errors").EnumerateObject().Select(error => error.Name).Should().Equal(["body"], "a syntax error is not a field's fault");
        problem.GetProperty("errors").GetProperty("body")[0].GetString().Should().Be($"The body is not valid JSON at line {line}, position {position}.");
    }

    [Fact]
    public async Task Register_ReturnsValidationFailed_WhenJsonBodyIsEmpty()
    {
        using var response = await Client.PostAsync("/v1/users", ApiRequests.Json(string.Empty));

        await response.ShouldBeValidationProblemAsync("body");
    }

    [Fact]
    public async Task Register_ReturnsUnsupportedMediaType_WhenThereIsNoBodyAtAll()
    {
        using var response = await Client.PostAsync("/v1/users", content: null);

        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "/problems/unsupported-media-type");
    }

    [Fact]
    public async Task Register_ReturnsEmailTaken_WhenTheSameEmailIsRegisteredAgain()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.RegisterAsync(user.Email, "another password");

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
    }

    [Fact]
    public async Task Register_ReturnsEmailTaken_WhenTheEmailDiffersOnlyInCaseAndSurroundingSpaces()
    {
        var local = $"Alice-{Guid.NewGuid():N}";
        await Client.RegisterUserAsync($"{local}@Example.com");

        using var response = await Client.RegisterAsync($"  {local.ToUpperInvariant()}@EXAMPLE.COM ", "another password");

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        (await Environment.Database.GetUsersAsync($"{local}@example.com")).Should().ContainSingle();
    }

    [Fact]
    public async Task Register_ReturnsOneCreatedAndFiveEmailTaken_WhenSixRequestsRaceForOneEmail()
    {
        var email = ApiRequests.UniqueEmail("race");
        using var start = new ManualResetEventSlim();

        var requests = Enumerable.Range(0, 6).Select(index => Task.Run(async () =>
        {
            start.Wait();
            return await Client.RegisterAsync(index % 2 == 0 ? email : email.ToUpperInvariant(), $"password number {index}");
        })).ToArray();
        start.Set();
        var responses = await Task.WhenAll(requests);

        responses.Select(response => response.StatusCode).Should()
            .ContainSingle(status => status == HttpStatusCode.Created)
            .And.HaveCount(6)
            .And.OnlyContain(status => status == HttpStatusCode.Created || status == HttpStatusCode.Conflict);
        foreach (var response in responses.Where(response => response.StatusCode == HttpStatusCode.Conflict))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        }

        // The losers left nothing behind: one user, one code, one outbox message.
        (await Environment.Database.GetUsersAsync(email)).Should().ContainSingle();
        (await Environment.Database.CountCodesOfUsersWithEmailAsync(email)).Should().Be(1);
        (await Environment.Database.GetOutboxMessagesAsync(email)).Should().ContainSingle();
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
