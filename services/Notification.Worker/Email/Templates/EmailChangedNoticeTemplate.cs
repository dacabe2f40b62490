using System.Net;

namespace Notification.Worker.Email.Templates;

/// <summary>
/// The notice to the old address once the sign-in address changed (<c>EmailChanged</c>): no code, the new
/// address partly masked (<see cref="EmailText.MaskAddress"/>), and what to do if the owner did not make
/// the change.
/// </summary>
public static class EmailChangedNoticeTemplate
{
    public const string Subject = "Your sign-in address was changed";

    public static OutgoingEmail Render(Guid? messageId, Guid userId, string oldAddress, string newAddress, DateTimeOffset changedAt)
    {
        var masked = EmailText.MaskAddress(newAddress);
        var at = EmailText.Utc(changedAt);
        var reference = OutgoingEmail.ReferenceOf(messageId, userId);
        var text = $"""
            The sign-in address of your account was changed to {masked} at {at}.
            This address no longer signs in; the new one does.

            If you made this change, there is nothing more to do.
            If you did not, someone else may know your password: contact support at once and quote reference {reference}.
            """;
        var html = $"""
            <p>The sign-in address of your account was changed to <strong>{WebUtility.HtmlEncode(masked)}</strong> at {WebUtility.HtmlEncode(at)}.<br>This address no longer signs in; the new one does.</p>
            <p>If you made this change, there is nothing more to do.<br>If you did not, someone else may know your password: contact support at once and quote reference {WebUtility.HtmlEncode(reference)}.</p>
            """;
        return new OutgoingEmail(EmailKind.EmailChangedNotice, messageId, userId, oldAddress, Subject, text, html, Code: null);
    }
}
