using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Resilience.Tests.Support;

/// <summary>A user the test registers: what the client knows (and, after a 201, the id).</summary>
public sealed record TestUser(string Email, string Password)
{
    public const string DefaultPassword = "correct horse battery";

    public Guid Id { get; set; }

    /// <summary>A fresh address, unique per test run; <paramref name="label"/> shows in the provider's log.</summary>
    public static TestUser New(string label) =>
        new($"{label}-{Guid.NewGuid().ToString("N")[..12]}@example.test", DefaultPassword);

    public AuthenticationHeaderValue Basic => ApiCalls.Basic(Email, Password);
}

/// <summary>The routes of the contract, as a client calls them.</summary>
public static class ApiCalls
{
    public static AuthenticationHeaderValue Basic(string email, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{email}:{password}")));

    /// <summary>POST /v1/users; on 201 the user's <see cref="TestUser.Id"/> is set.</summary>
    public static async Task<HttpResponseMessage> RegisterAsync(this HttpClient client, TestUser user)
    {
        var response = await client.PostAsJsonAsync("/v1/users", new { email = user.Email, password = user.Password });
        if (response.StatusCode == HttpStatusCode.Created)
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            user.Id = body.GetProperty("id").GetGuid();
        }

        return response;
    }

    public static Task<HttpResponseMessage> ActivateAsync(this HttpClient client, TestUser user, string code) =>
        client.SendAsync(Authorized(HttpMethod.Post, "/v1/users/me/activation", user, JsonContent.Create(new { code })));

    public static Task<HttpResponseMessage> ResendAsync(this HttpClient client, TestUser user) =>
        client.SendAsync(Authorized(HttpMethod.Post, "/v1/users/me/activation-code", user, content: null));

    public static Task<HttpResponseMessage> GetMeAsync(this HttpClient client, TestUser user) =>
        client.SendAsync(Authorized(HttpMethod.Get, "/v1/users/me", user, content: null));

    /// <summary>The problem <c>type</c> of an error answer, or null when the body is not a problem.</summary>
    public static async Task<string?> ProblemTypeAsync(this HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return null;
        }

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.TryGetProperty("type", out var type) ? type.GetString() : null;
    }

    private static HttpRequestMessage Authorized(HttpMethod method, string path, TestUser user, HttpContent? content) =>
        new(method, path) { Headers = { Authorization = user.Basic }, Content = content };
}
