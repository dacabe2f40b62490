namespace Notification.Worker.Email;

/// <summary>
/// DEVELOPMENT ONLY. Sends nothing: writes the recipient, the subject and the code (if the email
/// carries one) to the log so that the code can be read from the worker's console. This is the one
/// place an address or a code is ever logged.
/// </summary>
public sealed partial class ConsoleEmailClient(ILogger<ConsoleEmailClient> logger) : IEmailSender
{
    public Task<EmailSendResult> SendAsync(OutgoingEmail email, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        if (email.Code is { } code)
        {
            LogCode(logger, email.Subject, email.To, code.Value, code.ExpiresAt.UtcDateTime, email.UserId, email.Reference);
        }
        else
        {
            LogNotice(logger, email.Subject, email.To, email.UserId, email.Reference);
        }

        return Task.FromResult(EmailSendResult.Accepted);
    }

    // Deliberately logs the address and the code: the Console provider exists for that.
    [LoggerMessage(
        EventId = 2100,
        EventName = "DevelopmentEmailLogged",
        Level = LogLevel.Warning,
        Message = "[DEVELOPMENT EMAIL PROVIDER: Console, nothing is sent] \"{Subject}\" to {Recipient}: code {Code} (expires {ExpiresAtUtc:u}, user {UserId}, message {MessageReference})")]
    private static partial void LogCode(ILogger logger, string subject, string recipient, string code, DateTime expiresAtUtc, Guid userId, string messageReference);

    [LoggerMessage(
        EventId = 2101,
        EventName = "DevelopmentNoticeLogged",
        Level = LogLevel.Warning,
        Message = "[DEVELOPMENT EMAIL PROVIDER: Console, nothing is sent] \"{Subject}\" to {Recipient}: a notice, no code (user {UserId}, message {MessageReference})")]
    private static partial void LogNotice(ILogger logger, string subject, string recipient, Guid userId, string messageReference);
}
