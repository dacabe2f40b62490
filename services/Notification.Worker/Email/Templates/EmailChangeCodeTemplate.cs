using System.Net;

namespace Notification.Worker.Email.Templates;

/// <summary>
/// The code that confirms a new sign-in address (<c>EmailChangeRequested</c>), sent to that new address.
/// It says what the code is for, so that the owner of an address someone else typed knows to ignore it.
/// </summary>
public static class EmailChangeCodeTemplate
{
    public const string Subject = "Confirm your new email address";

    public static OutgoingEmail Render(Guid? messageId, Guid userId, string newAddress, EmailCode code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var lifetime = EmailText.Lifetime(code);
        var expiresAt = EmailText.Utc(code.ExpiresAt);
        var text = $"""
            Someone asked to make this address the sign-in address of their account.
            Your confirmation code is {code.Value}.

            It expires {lifetime} after it was issued, at {expiresAt}. The sign-in address changes only once
            this code is confirmed; until then the account keeps its current address.
            If you did not ask for this, ignore this email: nothing changes without the code.
            """;
        var html = $"""
            <p>Someone asked to make this address the sign-in address of their account.<br>Your confirmation code is <strong>{WebUtility.HtmlEncode(code.Value)}</strong>.</p>
            <p>It expires {lifetime} after it was issued, at {WebUtility.HtmlEncode(expiresAt)}. The sign-in address changes only once this code is confirmed; until then the account keeps its current address.</p>
            <p>If you did not ask for this, ignore this email: nothing changes without the code.</p>
            """;
        return new OutgoingEmail(EmailKind.EmailChangeCode, messageId, userId, newAddress, Subject, text, html, code);
    }
}
