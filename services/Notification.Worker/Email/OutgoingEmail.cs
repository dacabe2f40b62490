using System.Text.RegularExpressions;

namespace Notification.Worker.Email;

/// <summary>What an email is for; each kind has one template (<c>Email/Templates</c>).</summary>
public enum EmailKind
{
    /// <summary>An account's activation code (<c>UserRegistered</c>, <c>ActivationCodeReissued</c>).</summary>
    ActivationCode,

    /// <summary>The code that confirms a new sign-in address (<c>EmailChangeRequested</c>), sent to that address.</summary>
    EmailChangeCode,

    /// <summary>The notice to the old address that the sign-in address changed (<c>EmailChanged</c>); no code.</summary>
    EmailChangedNotice,
}

/// <summary>A code an email carries: its value and the lifetime the API gave it.</summary>
/// <param name="IssuedAt">When the code was issued (the event's <c>OccurredAt</c>): with <paramref name="ExpiresAt"/>, its lifetime.</param>
public sealed record EmailCode(string Value, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    // Never the value: records are printed by loggers and debuggers.
    public override string ToString() => $"EmailCode {{ ExpiresAt = {ExpiresAt:o} }}";
}

/// <summary>
/// One email as every provider sends it: recipient, subject, text and HTML bodies, rendered by the
/// template of its <see cref="Kind"/>. Providers add only their envelope.
/// </summary>
/// <param name="MessageId">The MessageId of the event, sent to the provider as its custom id/tag; null when the event had none.</param>
/// <param name="Code">The code the email carries, or null for a notice.</param>
public sealed partial record OutgoingEmail(
    EmailKind Kind,
    Guid? MessageId,
    Guid UserId,
    string To,
    string Subject,
    string TextBody,
    string HtmlBody,
    EmailCode? Code)
{
    /// <summary>Tag/custom id shown by the provider: lets an operator match a provider log line to a message.</summary>
    public string Reference => ReferenceOf(MessageId, UserId);

    /// <summary>The Mailpit tag that says what the email is for.</summary>
    public string Tag => Kind switch
    {
        EmailKind.ActivationCode => "activation",
        EmailKind.EmailChangeCode => "email-change",
        _ => "email-changed",
    };

    /// <summary>The MessageId, or <c>user-{id}</c> for an event that came without one.</summary>
    public static string ReferenceOf(Guid? messageId, Guid userId) => messageId?.ToString() ?? $"user-{userId}";

    // Never the code or the addresses: records are printed by loggers and debuggers.
    public override string ToString() => $"OutgoingEmail {{ Kind = {Kind}, MessageId = {MessageId}, UserId = {UserId} }}";

    /// <summary>
    /// A provider's answer made safe to log and keep in fault headers: the recipient, every other
    /// email address and the code masked, whitespace collapsed, length bounded. Every provider text
    /// that reaches a log line or an exception goes through here.
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

        // Mailjet's errors quote addresses (the sender's, a recipient's): none survives.
        text = AnyAddress().Replace(text, "<address>");
        if (Code is { Value.Length: > 0 } code)
        {
            text = text.Replace(code.Value, "<code>", StringComparison.Ordinal);
        }

        text = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        const int MaxLength = 300;
        return text.Length <= MaxLength ? text : string.Concat(text.AsSpan(0, MaxLength), "…");
    }

    // Anything shaped like local@domain, however it is quoted or escaped in JSON.
    [GeneratedRegex(@"[^\s""'<>(),;:\[\]\\]+@[^\s""'<>(),;:\[\]\\]+", RegexOptions.CultureInvariant)]
    private static partial Regex AnyAddress();
}
