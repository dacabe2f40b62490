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
        const string Purpose = "Someone asked to make this address the sign-in address of their account.";
        const string Effect = "The sign-in address changes only once this code is confirmed; until then the account keeps its current address.";
        const string NotYou = "If you did not ask for this, ignore this email: nothing changes without the code.";
        var expiry = EmailText.Expiry(code);
        var text = $"""
            {Purpose}
            Your confirmation code is {code.Value}.

            {expiry} {Effect}
            {NotYou}
            """;
        var html = $"""
            <p>{Purpose}<br>Your confirmation code is <strong>{WebUtility.HtmlEncode(code.Value)}</strong>.</p>
            <p>{WebUtility.HtmlEncode(expiry)} {Effect}</p>
            <p>{NotYou}</p>
            """;
        return new OutgoingEmail(EmailKind.EmailChangeCode, messageId, userId, newAddress, Subject, text, html, code);
    }
}
