using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace EndToEnd.Tests.Support;

/// <summary>
/// The third-party email API, faked at the HTTP level with WireMock: it answers both Mailjet's
/// and Mailpit's send routes, and reads back what our real provider clients sent.
/// </summary>
public sealed partial class FakeEmailProvider : IDisposable
{
    public const string MailjetPath = "/v3.1/send";
    public const string MailpitPath = "/api/v1/send";

    private const string MailjetSuccess = """{"Messages":[{"Status":"success","To":[{"MessageUUID":"1ab23cd4","MessageID":1}]}]}""";

    private readonly WireMockServer _server = WireMockServer.Start();

    public FakeEmailProvider() => Accept();

    public string Url => _server.Url!;

    /// <summary>From now on every send is accepted (200).</summary>
    public void Accept() => RespondWith(Response.Create()
        .WithStatusCode(200)
        .WithHeader("Content-Type", "application/json")
        .WithBody(MailjetSuccess));

    /// <summary>From now on every send fails with <paramref name="status"/> (an outage: 503).</summary>
    public void FailWith(int status) => RespondWith(Response.Create()
        .WithStatusCode(status)
        .WithHeader("Content-Type", "application/json")
        .WithBody("""{"ErrorMessage":"Service temporarily unavailable"}"""));

    /// <summary>Every request received so far, oldest first; the log survives a change of answer.</summary>
    public IReadOnlyList<ProviderRequest> Requests =>
        [.. _server.LogEntries.OrderBy(entry => entry.RequestMessage.DateTime).Select(ProviderRequest.From)];

    /// <summary>The sends the provider accepted: the emails that went out.</summary>
    public IReadOnlyList<ProviderRequest> Delivered => [.. Requests.Where(request => request.Accepted)];

    public IReadOnlyList<ProviderRequest> DeliveredTo(string address) =>
        [.. Delivered.Where(request => string.Equals(request.To, address, StringComparison.OrdinalIgnoreCase))];

    public void Dispose()
    {
        _server.Stop();
        _server.Dispose();
    }

    private void RespondWith(IResponseBuilder response)
    {
        // Mappings only: the request log is the test's evidence and stays.
        _server.ResetMappings();
        _server.Given(Request.Create().WithPath(MailjetPath, MailpitPath).UsingPost()).RespondWith(response);
    }
}

/// <summary>One request the fake provider received, read from either provider's JSON shape.</summary>
public sealed partial record ProviderRequest(
    DateTime ReceivedAt, string Path, int Status, string? To, string? Code, string? TraceParent, string Body)
{
    public bool Accepted => Status is >= 200 and < 300;

    /// <summary>Whether the request is for this message: Mailjet's CustomID and Mailpit's tags carry the MessageId.</summary>
    public bool IsFor(Guid messageId) => Body.Contains(messageId.ToString(), StringComparison.Ordinal);

    /// <summary>The trace id of the W3C <c>traceparent</c> header (<c>00-traceid-spanid-flags</c>).</summary>
    public string? TraceId => TraceParent?.Split('-') is [_, var traceId, _, _] ? traceId : null;

    public override string ToString() => $"{Path} to {To} code {Code} -> {Status}";

    internal static ProviderRequest From(ILogEntry entry)
    {
        var request = entry.RequestMessage;
        var body = request.Body ?? string.Empty;
        var (to, text) = ProviderJson.Read(body);
        var code = text is null ? null : CodeInText().Match(text) is { Success: true } match ? match.Groups[1].Value : null;
        var status = Convert.ToInt32(entry.ResponseMessage.StatusCode, CultureInfo.InvariantCulture);
        var traceParent = request.Headers is { } headers && headers.TryGetValue("traceparent", out var values) ? values.FirstOrDefault() : null;
        return new ProviderRequest(request.DateTime, request.Path, status, to, code, traceParent, body);
    }

    // The email says "Your activation code is 0427."
    [GeneratedRegex(@"activation code is (\d{4})\b", RegexOptions.CultureInvariant)]
    private static partial Regex CodeInText();
}

/// <summary>The fields of a send request the tests look at, from either provider's JSON shape.</summary>
internal static class ProviderJson
{
    /// <summary>Mailjet: <c>{"Messages":[{"To":[{"Email"}],"TextPart"}]}</c>; Mailpit: <c>{"To":[{"Email"}],"Text"}</c>.</summary>
    public static (string? To, string? Text) Read(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var message = document.RootElement;
            if (message.TryGetProperty("Messages", out var messages) && messages.GetArrayLength() > 0)
            {
                message = messages[0];
            }

            var to = message.TryGetProperty("To", out var recipients) && recipients.GetArrayLength() > 0
                ? recipients[0].GetProperty("Email").GetString()
                : null;
            var text = message.TryGetProperty("TextPart", out var textPart) ? textPart.GetString()
                : message.TryGetProperty("Text", out var plain) ? plain.GetString()
                : null;
            return (to, text);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }
}
