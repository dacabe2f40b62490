using System.Net;

namespace Notification.Worker.Email.Templates;

/// <summary>The activation code of a new or pending account (<c>UserRegistered</c>, <c>ActivationCodeReissued</c>).</summary>
public static class ActivationCodeTemplate
{
    public const string Subject = "Your activation code";

    public static OutgoingEmail Render(Guid? messageId, Guid userId, string to, EmailCode code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var lifetime = EmailText.Lifetime(code);
        var expiresAt = EmailText.Utc(code.ExpiresAt);
        var text = $"""
            Your activation code is {code.Value}.

            It expires {lifetime} after it was issued, at {expiresAt}.
            If it has expired, ask for a new code.
            """;
        var html = $"""
            <p>Your activation code is <strong>{WebUtility.HtmlEncode(code.Value)}</strong>.</p>
            <p>It expires {lifetime} after it was issued, at {WebUtility.HtmlEncode(expiresAt)}.<br>If it has expired, ask for a new code.</p>
            """;
        return new OutgoingEmail(EmailKind.ActivationCode, messageId, userId, to, Subject, text, html, code);
    }
}
