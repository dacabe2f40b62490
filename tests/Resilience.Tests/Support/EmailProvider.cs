using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilience.Tests.Support;

/// <summary>
/// The third-party email API (Mailjet's send route), faked with WireMock.Net. A test switches it
/// between accepting, failing and answering slowly; the request log is the evidence of what was
/// emailed, and survives every switch.
/// </summary>
public sealed class EmailProvider : IDisposable
{
    public const string SendPath = "/v3.1/send";

    private const string Success = """{"Messages":[{"Status":"success","To":[{"MessageUUID":"1ab23cd4","MessageID":1}]}]}""";

    private readonly WireMockServer _server = WireMockServer.Start();

    public EmailProvider() => Accept();

    public string Url => _server.Url!;

    /// <summary>From now on every send is accepted, after <paramref name="delay"/> if given.</summary>
    public void Accept(TimeSpan? delay = null) => Answer(Accepted(delay));

    /// <summary>From now on every send fails with <paramref name="status"/> (an outage: 503).</summary>
    public void FailWith(int status) => Answer(Response.Create()
        .WithStatusCode(status)
        .WithHeader("Content-Type", "application/json")
        .WithBody("""{"ErrorMessage":"Service temporarily unavailable"}"""));

    /// <summary>
    /// From now on sends to an address containing <paramref name="addressPart"/> are accepted only
    /// after <paramref name="delay"/>; every other send is accepted at once.
    /// </summary>
    public void SlowFor(string addressPart, TimeSpan delay)
    {
        Answer(Accepted(delay: null));
        _server.Given(Request.Create().WithPath(SendPath).UsingPost().WithBody(new WildcardMatcher($"*{addressPart}*")))
            .AtPriority(1)
            .RespondWith(Accepted(delay));
    }

    /// <summary>Every request received so far, oldest first.</summary>
    public IReadOnlyList<ProviderRequest> Requests =>
        [.. _server.LogEntries.ToList().Select(ProviderRequest.From).OrderBy(request => request.ReceivedAt)];

    /// <summary>The sends the provider answered 2xx: the emails that went out.</summary>
    public IReadOnlyList<ProviderRequest> Delivered => [.. Requests.Where(request => request.Accepted)];

    public void Dispose()
    {
        _server.Stop();
        _server.Dispose();
    }

    private static IResponseBuilder Accepted(TimeSpan? delay)
    {
        var response = Response.Create()
            .WithStatusCode(200)
            .WithHeader("Content-Type", "application/json")
            .WithBody(Success);
        return delay is { } wait ? response.WithDelay(wait) : response;
    }

    private void Answer(IResponseBuilder response)
    {
        // Mappings only: the request log stays.
        _server.ResetMappings();
        _server.Given(Request.Create().WithPath(SendPath).UsingPost()).AtPriority(10).RespondWith(response);
    }
}

/// <summary>One send the fake provider received, read from Mailjet's JSON shape.</summary>
public sealed record ProviderRequest(DateTime ReceivedAt, int Status, string? To, string? Code, Guid? MessageId)
{
    public bool Accepted => Status is >= 200 and < 300;

    internal static ProviderRequest From(WireMock.Logging.ILogEntry entry)
    {
        var (to, code, messageId) = MailjetSend.Read(entry.RequestMessage.Body ?? string.Empty);
        var status = Convert.ToInt32(entry.ResponseMessage.StatusCode, CultureInfo.InvariantCulture);
        return new ProviderRequest(entry.RequestMessage.DateTime, status, to, code, messageId);
    }
}

/// <summary>The fields of a Mailjet send request the scenarios look at.</summary>
internal static partial class MailjetSend
{
    /// <summary><c>{"Messages":[{"To":[{"Email"}],"TextPart","CustomID"}]}</c>; the worker sends the MessageId as CustomID.</summary>
    public static (string? To, string? Code, Guid? MessageId) Read(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var message = document.RootElement.GetProperty("Messages")[0];
            var to = message.GetProperty("To")[0].GetProperty("Email").GetString();
            var code = CodeInText().Match(message.GetProperty("TextPart").GetString() ?? string.Empty) is { Success: true } match
                ? match.Groups[1].Value
                : null;
            Guid? messageId = Guid.TryParse(message.GetProperty("CustomID").GetString(), out var id) ? id : null;
            return (to, code, messageId);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            // Not a send of ours: counted, but names nobody.
            return (null, null, null);
        }
    }

    // The email says "Your activation code is 0427."
    [GeneratedRegex(@"activation code is (\d{4})\b", RegexOptions.CultureInvariant)]
    private static partial Regex CodeInText();
}
