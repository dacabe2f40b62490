using System.Text.RegularExpressions;

namespace Registration.Testing.Fakes;

/// <summary>
/// One send the fake provider received, as it arrived, with the fields the tests look at read from
/// either API's JSON, and the answer it was given.
/// </summary>
/// <param name="Sequence">Arrival order, from 1.</param>
/// <param name="Timestamp">Stopwatch timestamp of the arrival, for latencies.</param>
/// <param name="MessageId">Mailjet's <c>CustomID</c> or Mailpit's last tag: the event's MessageId, or <c>user-{id}</c> without one.</param>
/// <param name="Accepted">Whether the answer let the email go out.</param>
public sealed partial record ProviderRequest(
    long Sequence,
    DateTime ReceivedAt,
    long Timestamp,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    string? To,
    string? Code,
    string? MessageId,
    int Status,
    bool Accepted)
{
    public bool IsFor(Guid messageId) => MessageId == messageId.ToString();

    public string? Header(string name) => Headers.GetValueOrDefault(name);

    /// <summary>The trace id of the W3C <c>traceparent</c> header (<c>00-traceid-spanid-flags</c>).</summary>
    public string? TraceId => Header("traceparent")?.Split('-') is [_, var traceId, _, _] ? traceId : null;

    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Body);
        return document.RootElement.Clone();
    }

    public override string ToString() => $"#{Sequence} {Path} to {To} code {Code} -> {Status}";

    /// <summary>
    /// Mailjet: <c>{"Messages":[{"To":[{"Email"}],"TextPart","CustomID"}]}</c>;
    /// Mailpit: <c>{"To":[{"Email"}],"Text","Tags":["activation", id]}</c>. Anything else names nobody.
    /// </summary>
    internal static (string? To, string? Code, string? MessageId) Read(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var message = document.RootElement;
            if (message.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null);
            }

            var mailjet = message.TryGetProperty("Messages", out var messages) && messages.ValueKind == JsonValueKind.Array;
            if (mailjet)
            {
                if (messages.GetArrayLength() == 0)
                {
                    return (null, null, null);
                }

                message = messages[0];
            }

            var to = message.TryGetProperty(nameof(To), out var recipients) && recipients.ValueKind == JsonValueKind.Array && recipients.GetArrayLength() > 0
                && recipients[0].TryGetProperty("Email", out var address)
                ? address.GetString()
                : null;
            var text = message.TryGetProperty(mailjet ? "TextPart" : "Text", out var textPart) ? textPart.GetString() : null;
            var code = text is not null && CodeInText().Match(text) is { Success: true } match ? match.Groups[1].Value : null;
            string? messageId = null;
            if (mailjet && message.TryGetProperty("CustomID", out var customId))
            {
                messageId = customId.GetString();
            }
            else if (!mailjet && message.TryGetProperty("Tags", out var tags) && tags.ValueKind == JsonValueKind.Array && tags.GetArrayLength() > 0)
            {
                messageId = tags[tags.GetArrayLength() - 1].GetString();
            }

            return (to, code, messageId);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return (null, null, null);
        }
    }

    // "Your activation code is 0427."
    [GeneratedRegex(@"code is (\d{4})\b", RegexOptions.CultureInvariant)]
    private static partial Regex CodeInText();
}
