using System.Net;

namespace Notification.Worker.Email.Templates;

/// <summary>The activation code of a new or pending account (<c>UserRegistered</c>, <c>ActivationCodeReissued</c>).</summary>
public static class ActivationCodeTemplate
{
    public const string Subject = "Your activation code";

    public static OutgoingEmail Render(Guid? messageId, Guid userId, string to, EmailCode code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var expiry = EmailText.Expiry(code);
        var text = $"""
            Your activation code is {code.Value}.

            {expiry}
            If it has expired, ask for a new code.
            """;
        var html = $"""
            <p>Your activation code is <strong>{WebUtility.HtmlEncode(code.Value)}</strong>.</p>
            <p>{WebUtility.HtmlEncode(expiry)}<br>If it has expired, ask for a new code.</p>
            """;
        return new OutgoingEmail(EmailKind.ActivationCode, messageId, userId, to, Subject, text, html, code);
    }
}
