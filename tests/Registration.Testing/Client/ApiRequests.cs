using System.Net.Http.Headers;
using System.Net.Http.Json;
using FluentAssertions;

namespace Registration.Testing.Client;

/// <summary>A user a test signs up: what the client chose, and the id once a registration answered 201.</summary>
public sealed record TestUser(string Email, string Password)
{
    public Guid Id { get; set; }

    public AuthenticationHeaderValue Credentials => BasicAuth.Header(Email, Password);

    /// <summary>A fresh address, unique per run; <paramref name="label"/> shows in the provider's record.</summary>
    public static TestUser New(string label = "user", string password = ApiRequests.DefaultPassword) =>
        new(ApiRequests.UniqueEmail(label), password);
}

public static class BasicAuth
{
    /// <summary><c>Basic base64(email:password)</c>, UTF-8 as the API expects.</summary>
    public static AuthenticationHeaderValue Header(string email, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{email}:{password}")));
}

/// <summary>An answer of a health endpoint, read and released at once (health is polled).</summary>
public sealed record HealthAnswer(HttpStatusCode StatusCode, string Body)
{
    /// <summary>The overall status ("Healthy", "Degraded", ...) of a 200 answer; null for a problem.</summary>
    public string? Status =>
        JsonDocument.Parse(Body).RootElement.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String
            ? status.GetString()
            : null;

    public bool IsHealthy => StatusCode == HttpStatusCode.OK && Status == "Healthy";

    public override string ToString() => $"{(int)StatusCode} {Body}";
}

/// <summary>The API's routes as calls, so tests read as the scenario they check.</summary>
public static class ApiRequests
{
    public const string DefaultPassword = "correct horse battery";

    /// <summary>The members of the user body (design, "HTTP API"): never the password or its hash.</summary>
    public static readonly IReadOnlyList<string> UserBodyProperties = ["id", "email", "status", "createdAt", "activatedAt", "pendingEmail"];

    /// <summary><c>Authorization: Bearer {Admin:ApiKey}</c> of every test API.</summary>
    public static AuthenticationHeaderValue OperatorCredentials => new("Bearer", TestSettings.OperatorKey);

    public static string UniqueEmail(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    public static Task<HttpResponseMessage> RegisterAsync(this HttpClient client, string? email, string? password) =>
        client.PostAsJsonAsync("/v1/users", new { email, password });

    /// <summary>POST /v1/users for <paramref name="user"/>; on 201 its <see cref="TestUser.Id"/> is set.</summary>
    public static async Task<HttpResponseMessage> RegisterAsync(this HttpClient client, TestUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var response = await client.RegisterAsync(user.Email, user.Password);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            user.Id = (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
        }

        return response;
    }

    /// <summary>Registers and insists on 201; returns the user with its id.</summary>
    public static async Task<TestUser> RegisterUserAsync(this HttpClient client, string? email = null, string password = DefaultPassword)
    {
        email ??= UniqueEmail();
        using var response = await client.RegisterAsync(email, password);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.Created, "registering {0} should succeed; body: {1}", email, body);
        return new TestUser(email.Trim(), password) { Id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid() };
    }

    /// <summary>Registers and insists on 201; returns the pending user and the code it was issued, read from the database.</summary>
    public static async Task<(TestUser User, StoredCode Code)> RegisterUserWithCodeAsync(
        this HttpClient client, TestDatabase database, string? email = null, string password = DefaultPassword)
    {
        ArgumentNullException.ThrowIfNull(database);
        var user = await client.RegisterUserAsync(email, password);
        return (user, await database.GetCurrentCodeAsync(user.Id));
    }

    /// <summary>Registers, then activates with the code read from the database.</summary>
    public static async Task<TestUser> RegisterActiveUserAsync(this HttpClient client, TestDatabase database, string? email = null)
    {
        var (user, code) = await client.RegisterUserWithCodeAsync(database, email);
        using var response = await client.ActivateAsync(user, code.Code);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return user;
    }

    public static Task<HttpResponseMessage> ActivateAsync(this HttpClient client, AuthenticationHeaderValue? credentials, string code) =>
        client.SendAsync(HttpMethod.Post, "/v1/users/me/activation", credentials, JsonContent.Create(new { code }));

    public static Task<HttpResponseMessage> ActivateAsync(this HttpClient client, TestUser user, string code) =>
        client.ActivateAsync(user.Credentials, code);

    public static Task<HttpResponseMessage> RequestNewCodeAsync(this HttpClient client, AuthenticationHeaderValue? credentials) =>
        client.SendAsync(HttpMethod.Post, "/v1/users/me/activation-code", credentials);

    public static Task<HttpResponseMessage> RequestNewCodeAsync(this HttpClient client, TestUser user) =>
        client.RequestNewCodeAsync(user.Credentials);

    /// <summary>POST /v1/users/me/email-confirmation: the code emailed to the pending new address.</summary>
    public static Task<HttpResponseMessage> ConfirmEmailChangeAsync(this HttpClient client, AuthenticationHeaderValue? credentials, string code) =>
        client.SendAsync(HttpMethod.Post, "/v1/users/me/email-confirmation", credentials, JsonContent.Create(new { code }));

    public static Task<HttpResponseMessage> ConfirmEmailChangeAsync(this HttpClient client, TestUser user, string code) =>
        client.ConfirmEmailChangeAsync(user.Credentials, code);

    public static Task<HttpResponseMessage> GetMeAsync(this HttpClient client, AuthenticationHeaderValue? credentials) =>
        client.SendAsync(HttpMethod.Get, "/v1/users/me", credentials);

    public static Task<HttpResponseMessage> GetMeAsync(this HttpClient client, TestUser user) =>
        client.GetMeAsync(user.Credentials);

    public static async Task<HealthAnswer> GetHealthAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return new HealthAnswer(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<HttpResponseMessage> SendAsync(
        this HttpClient client, HttpMethod method, string path, AuthenticationHeaderValue? credentials, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = credentials;
        return await client.SendAsync(request);
    }

    /// <summary>Sends a raw <c>Authorization</c> header, unvalidated, for malformed-header cases.</summary>
    public static async Task<HttpResponseMessage> SendWithRawAuthorizationAsync(
        this HttpClient client, HttpMethod method, string path, string authorization, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", authorization).Should().BeTrue();
        return await client.SendAsync(request);
    }

    /// <summary>A body sent exactly as given, labelled JSON.</summary>
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A well-formed code that is certainly not <paramref name="code"/>.</summary>
    public static string OtherThan(string code) =>
        ((int.Parse(code, CultureInfo.InvariantCulture) + 1) % 10_000).ToString("D4", CultureInfo.InvariantCulture);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
