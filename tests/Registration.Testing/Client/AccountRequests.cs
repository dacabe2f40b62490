using System.Net.Http.Headers;
using System.Net.Http.Json;
using FluentAssertions;

namespace Registration.Testing.Client;

/// <summary>PATCH and DELETE of <c>/v1/users/me</c>, and the operator routes, as calls.</summary>
public static class AccountRequests
{
    public static Task<HttpResponseMessage> PatchMeAsync(this HttpClient client, AuthenticationHeaderValue? credentials, object body) =>
        client.SendAsync(HttpMethod.Patch, "/v1/users/me", credentials, JsonContent.Create(body));

    public static Task<HttpResponseMessage> PatchMeAsync(this HttpClient client, TestUser user, object body) =>
        client.PatchMeAsync(user.Credentials, body);

    /// <summary>PATCHes <paramref name="user"/>'s email to <paramref name="newEmail"/>, insists on 200, and returns the code issued for it.</summary>
    public static async Task<string> RequestEmailChangeAsync(this HttpClient client, TestUser user, string newEmail, TestDatabase database)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(database);
        using var response = await client.PatchMeAsync(user, new { email = newEmail });
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await database.GetCurrentCodeAsync(user.Id)).Code;
    }

    /// <summary>PATCH with a body sent exactly as given.</summary>
    public static Task<HttpResponseMessage> PatchMeRawAsync(
        this HttpClient client, AuthenticationHeaderValue? credentials, string body, string contentType = "application/json") =>
        client.SendAsync(HttpMethod.Patch, "/v1/users/me", credentials, new StringContent(body, Encoding.UTF8, contentType));

    public static Task<HttpResponseMessage> DeleteMeAsync(this HttpClient client, AuthenticationHeaderValue? credentials) =>
        client.SendAsync(HttpMethod.Delete, "/v1/users/me", credentials);

    public static Task<HttpResponseMessage> ListUsersAsync(this HttpClient client, AuthenticationHeaderValue? credentials, string query = "") =>
        client.SendAsync(HttpMethod.Get, "/v1/users" + query, credentials);

    public static Task<HttpResponseMessage> GetUserAsync(this HttpClient client, AuthenticationHeaderValue? credentials, string id) =>
        client.SendAsync(HttpMethod.Get, $"/v1/users/{id}", credentials);

    public static Task<HttpResponseMessage> DeleteUserAsync(this HttpClient client, AuthenticationHeaderValue? credentials, string id) =>
        client.SendAsync(HttpMethod.Delete, $"/v1/users/{id}", credentials);

    /// <summary>Reads a 200 page of <c>GET /v1/users</c>.</summary>
    public static async Task<UserPageBody> ReadPageAsync(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != System.Net.HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Expected a page, got {(int)response.StatusCode}: {body}");
        }

        var root = JsonDocument.Parse(body).RootElement;
        var items = root.GetProperty("items").EnumerateArray().Select(item => item.Clone()).ToList();
        var next = root.GetProperty("next");
        return new UserPageBody(items, next.ValueKind == JsonValueKind.Null ? null : next.GetString());
    }
}

public sealed record UserPageBody(IReadOnlyList<JsonElement> Items, string? Next)
{
    public IEnumerable<Guid> Ids => Items.Select(item => item.GetProperty("id").GetGuid());
}
