using System.Net.Http.Headers;

namespace Registration.Testing.Servers;

/// <summary>
/// The few calls of RabbitMQ's management HTTP API (the rabbitmq_management plugin) that
/// the tests need: virtual hosts and permissions. The caller's user needs the
/// <c>administrator</c> tag.
/// </summary>
internal sealed class RabbitMqManagementApi
{
    // One client for the process: a handful of calls per test class, and a shared client
    // reuses its connections instead of leaving sockets behind per call.
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private const string FullPermissions = """{"configure":".*","write":".*","read":".*"}""";

    private readonly Uri _baseUri;
    private readonly AuthenticationHeaderValue _authorization;

    public RabbitMqManagementApi(Uri baseUri, string username, string password)
    {
        // Relative paths resolve below the base only when it ends with a slash
        // (TEST_RABBITMQ_MANAGEMENT may carry a path prefix behind a proxy).
        _baseUri = baseUri.AbsoluteUri.EndsWith('/') ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
        _authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
    }

    public Uri BaseUri => _baseUri;

    /// <summary>Answers when the API is reachable and the credentials are accepted.</summary>
    public async Task WhoAmIAsync(CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, "api/whoami", content: null, ct);
        await EnsureSuccessAsync(response, ct);
    }

    public async Task CreateVirtualHostAsync(string virtualHost, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Put, $"api/vhosts/{Uri.EscapeDataString(virtualHost)}", content: null, ct);
        await EnsureSuccessAsync(response, ct);
    }

    public async Task GrantFullPermissionsAsync(string virtualHost, string username, CancellationToken ct)
    {
        using var content = new StringContent(FullPermissions, Encoding.UTF8, "application/json");
        using var response = await SendAsync(
            HttpMethod.Put,
            $"api/permissions/{Uri.EscapeDataString(virtualHost)}/{Uri.EscapeDataString(username)}",
            content,
            ct);
        await EnsureSuccessAsync(response, ct);
    }

    /// <summary>Deletes the virtual host with its queues and exchanges; a missing one is not an error.</summary>
    public async Task DeleteVirtualHostAsync(string virtualHost, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"api/vhosts/{Uri.EscapeDataString(virtualHost)}", content: null, ct);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await EnsureSuccessAsync(response, ct);
        }
    }

    /// <summary>A queue's type and arguments as the broker holds them; null when there is no such queue.</summary>
    public async Task<QueueDescription?> GetQueueAsync(string virtualHost, string queue, CancellationToken ct)
    {
        using var response = await SendAsync(
            HttpMethod.Get, $"api/queues/{Uri.EscapeDataString(virtualHost)}/{Uri.EscapeDataString(queue)}", content: null, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, ct);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var root = document.RootElement;
        var arguments = root.GetProperty("arguments").EnumerateObject()
            .ToDictionary(argument => argument.Name, argument => argument.Value.ToString(), StringComparer.Ordinal);
        return new QueueDescription(queue, root.GetProperty("type").GetString() ?? "classic", root.GetProperty("durable").GetBoolean(), arguments);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(_baseUri, path)) { Content = content };
        request.Headers.Authorization = _authorization;
        return await Http.SendAsync(request, ct);
    }

    // The management API explains a refusal in its body (e.g. "not_authorised"): keep it in
    // the exception, EnsureSuccessStatusCode would drop it.
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(ct);
        throw new HttpRequestException(
            $"RabbitMQ management API {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} "
            + $"answered {(int)response.StatusCode} {response.ReasonPhrase}: {body}",
            inner: null,
            response.StatusCode);
    }
}

/// <summary>A queue as the management API describes it: its type (<c>classic</c>, <c>quorum</c>) and its arguments as text.</summary>
public sealed record QueueDescription(string Name, string Type, bool Durable, IReadOnlyDictionary<string, string> Arguments);
