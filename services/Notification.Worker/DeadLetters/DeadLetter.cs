using System.Globalization;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;

namespace Notification.Worker.DeadLetters;

/// <summary>What an operator needs to know about one message in an <c>_error</c> queue.</summary>
public sealed record DeadLetter(
    string Queue,
    string? MessageId,
    string? MessageType,
    DateTimeOffset? SentAt,
    DateTimeOffset? FaultedAt,
    string? ExceptionType,
    string? ExceptionMessage)
{
    /// <summary>
    /// Headers MassTransit adds when it moves a message to the error queue, and RabbitMQ's own when it
    /// dead-letters or redelivers one; a replay removes them, so the message starts afresh.
    /// </summary>
    internal static bool IsFaultHeader(string name) =>
        name.StartsWith("MT-Fault-", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("MT-Host-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("MT-Reason", StringComparison.OrdinalIgnoreCase)
        || name.Equals("x-death", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("x-first-death-", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("x-last-death-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("x-delivery-count", StringComparison.OrdinalIgnoreCase);

    internal static DeadLetter From(string queue, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        var headers = properties.Headers;
        var (envelopeId, envelopeType, sentAt) = ReadEnvelope(body);
        // Dead-lettered by RabbitMQ itself (a quorum queue's delivery limit) rather than by MassTransit:
        // no fault headers, but the broker's own x-death record says when and why.
        var brokerReason = Header(headers, "x-first-death-reason");
        return new DeadLetter(
            queue,
            properties.MessageId ?? envelopeId,
            envelopeType ?? Header(headers, "MT-Fault-MessageType") ?? properties.Type,
            sentAt ?? (properties.Timestamp.UnixTime > 0 ? DateTimeOffset.FromUnixTimeSeconds(properties.Timestamp.UnixTime) : null),
            ParseTime(Header(headers, "MT-Fault-Timestamp")) ?? FirstDeathTime(headers),
            Header(headers, "MT-Fault-ExceptionType"),
            Header(headers, "MT-Fault-Message") ?? (brokerReason is null ? null : $"dead-lettered by RabbitMQ: {brokerReason}"));
    }

    /// <summary>When the broker dead-lettered the message (its latest <c>x-death</c> entry, the first in the list), if it did.</summary>
    private static DateTimeOffset? FirstDeathTime(IDictionary<string, object?>? headers) =>
        headers?.TryGetValue("x-death", out var deaths) == true
        && deaths is IList<object> { Count: > 0 } list
        && list[0] is IDictionary<string, object> first
        && first.TryGetValue("time", out var time) && time is AmqpTimestamp { UnixTime: > 0 } timestamp
            ? DateTimeOffset.FromUnixTimeSeconds(timestamp.UnixTime)
            : null;

    internal static string? Header(IDictionary<string, object?>? headers, string name)
    {
        if (headers is null || !headers.TryGetValue(name, out var value) || value is null)
        {
            return null;
        }

        // AMQP strings arrive as bytes.
        return value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(value, CultureInfo.InvariantCulture);
    }

    private static DateTimeOffset? ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    /// <summary>MassTransit's JSON envelope carries the id, the message type URNs and the sent time.</summary>
    private static (string? MessageId, string? MessageType, DateTimeOffset? SentAt) ReadEnvelope(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null);
            }

            string? messageId = root.TryGetProperty("messageId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            string? messageType = null;
            if (root.TryGetProperty("messageType", out var types) && types.ValueKind == JsonValueKind.Array && types.GetArrayLength() > 0)
            {
                // "urn:message:Registration.Contracts.V1:UserRegistered" -> "UserRegistered"
                var urn = types[0].GetString();
                messageType = urn?[(urn.LastIndexOf(':') + 1)..];
            }

            DateTimeOffset? sentAt = root.TryGetProperty("sentTime", out var sent) && sent.TryGetDateTimeOffset(out var time) ? time : null;
            return (messageId, messageType, sentAt);
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }
}
