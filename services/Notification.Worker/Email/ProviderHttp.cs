using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Notification.Worker.Email;

/// <summary>What the HTTP providers share: JSON shape, auth header and the failure taxonomy.</summary>
internal static class ProviderHttp
{
    /// <summary>Provider APIs name their fields in PascalCase, as our records do; nulls are left out.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = true,
    };

    public static AuthenticationHeaderValue BasicAuth(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>BaseAddress must end with '/' or a path prefix in it is dropped by relative URIs.</summary>
    public static Uri WithTrailingSlash(Uri baseUrl) =>
        baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");

    /// <summary>
    /// The request body, serialised up front: a few hundred bytes, sent with <c>Content-Length</c>.
    /// (<c>JsonContent</c> streams with chunked transfer encoding, which some servers and gateways refuse.)
    /// </summary>
    internal static ByteArrayContent JsonBody<TBody>(TBody body)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, Json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    /// <summary>Still failing after the resilience pipeline's retries: 408, 429 and 5xx are worth another go later.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The provider's Retry-After (seconds or a date); null when it gave none (the backoff decides).</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - TimeProvider.System.GetUtcNow() : null);
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    /// <summary>
    /// Posts <paramref name="body"/> and maps every failure to a result; a 2xx response is handed
    /// to <paramref name="readSuccess"/>. A 429/503 whose Retry-After is longer than
    /// <paramref name="retryAfterCap"/> carries that wait. Only the caller's cancellation escapes as an exception.
    /// </summary>
    public static async Task<EmailSendResult> PostAsync<TBody>(
        HttpClient http,
        string provider,
        string path,
        TBody body,
        OutgoingEmail email,
        TimeSpan retryAfterCap,
        Func<HttpResponseMessage, CancellationToken, Task<EmailSendResult>> readSuccess,
        CancellationToken cancellationToken)
    {
        try
        {
            using var content = JsonBody(body);
            using var response = await http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return await readSuccess(response, cancellationToken);
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var reason = $"{provider} answered {(int)response.StatusCode} {response.ReasonPhrase}: {email.Redact(text)}".TrimEnd(' ', ':');
            if (!IsTransient(response.StatusCode))
            {
                return EmailSendResult.Permanent(reason);
            }

            // Longer than the HTTP retries wait: the answer says when to come back, the consumer makes it so.
            var retryAfter = RetryAfter(response);
            return retryAfter > retryAfterCap
                ? EmailSendResult.Transient($"{reason} (Retry-After {retryAfter.Value.TotalSeconds:0} s)", retryAfter)
                : EmailSendResult.Transient(reason);
        }
        catch (BrokenCircuitException)
        {
            return EmailSendResult.Transient($"{provider} circuit is open after repeated failures");
        }
        catch (TimeoutRejectedException ex)
        {
            return EmailSendResult.Transient($"{provider} timed out ({ex.Timeout.TotalSeconds:0.###} s)");
        }
        catch (HttpRequestException ex)
        {
            return EmailSendResult.Transient($"{provider} unreachable: {email.Redact(ex.Message)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout, not the caller: a timeout like any other.
            return EmailSendResult.Transient($"{provider} timed out");
        }
    }
}
