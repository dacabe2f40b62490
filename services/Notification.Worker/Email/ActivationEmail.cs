using System.Globalization;
using System.Net;

namespace Notification.Worker.Email;

/// <summary>An activation code email and the text every provider sends for it.</summary>
/// <param name="MessageId">The MessageId of the event, sent to the provider as its custom id/tag; null when the event had none.</param>
/// <param name="IssuedAt">When the code was issued: with <paramref name="ExpiresAt"/>, its lifetime as configured in the API.</param>
public sealed record ActivationEmail(Guid? MessageId, Guid UserId, string To, string Code, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    public const string Subject = "Your activation code";

    /// <summary>Tag/custom id shown by the provider: lets an operator match a provider log line to a message.</summary>
    public string Reference => MessageId?.ToString() ?? $"user-{UserId}";

    /// <summary>"one minute", "5 minutes", "90 seconds", "one hour": the code's lifetime as a person says it.</summary>
    internal string Lifetime => DescribeLifetime(ExpiresAt - IssuedAt);

    private string ExpiresAtUtc => ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public string TextBody =>
        $"""
        Your activation code is {Code}.

        It expires {Lifetime} after it was issued, at {ExpiresAtUtc}.
        If it has expired, ask for a new code.
        """;

    public string HtmlBody =>
        $"""
        <p>Your activation code is <strong>{WebUtility.HtmlEncode(Code)}</strong>.</p>
        <p>It expires {Lifetime} after it was issued, at {WebUtility.HtmlEncode(ExpiresAtUtc)}.<br>If it has expired, ask for a new code.</p>
        """;

    internal static string DescribeLifetime(TimeSpan lifetime)
    {
        var seconds = (long)Math.Round(lifetime.TotalSeconds);
        return seconds switch
        {
            3600 => "one hour",
            60 => "one minute",
            1 => "one second",
            > 0 when seconds % 3600 == 0 => $"{seconds / 3600} hours",
            > 0 when seconds % 60 == 0 => $"{seconds / 60} minutes",
            _ => $"{seconds} seconds",
        };
    }

    // Never the code or the address: records are printed by loggers and debuggers.
    public override string ToString() => $"ActivationEmail {{ MessageId = {MessageId}, UserId = {UserId} }}";

    /// <summary>
    /// A provider's answer made safe to log and keep in fault headers: the address and the code
    /// masked, whitespace collapsed, length bounded.
    /// </summary>
    public string Redact(string? providerText)
    {
        if (string.IsNullOrWhiteSpace(providerText))
        {
            return string.Empty;
        }

        var text = providerText;
        if (To.Length > 0)
        {
            text = text.Replace(To, "<recipient>", StringComparison.OrdinalIgnoreCase);
        }

        if (Code.Length > 0)
        {
            text = text.Replace(Code, "<code>", StringComparison.Ordinal);
        }

        text = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        const int MaxLength = 300;
        return text.Length <= MaxLength ? text : string.Concat(text.AsSpan(0, MaxLength), "…");
    }
}
