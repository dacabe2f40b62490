namespace Notification.Worker.Email;

/// <summary>
/// DEVELOPMENT ONLY. Sends nothing: writes the recipient and the code to the log so that the
/// code can be read from the worker's console. This is the one place a code is ever logged.
/// </summary>
public sealed partial class ConsoleEmailClient(ILogger<ConsoleEmailClient> logger) : IActivationEmailSender
{
    public Task<EmailSendResult> SendAsync(ActivationEmail email, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        LogCode(logger, email.To, email.Code, email.ExpiresAt.UtcDateTime, email.UserId, email.Reference);
        return Task.FromResult(EmailSendResult.Accepted);
    }

    // Deliberately logs the address and the code: the Console provider exists for that.
    [LoggerMessage(
        EventId = 2100,
        EventName = "DevelopmentEmailLogged",
        Level = LogLevel.Warning,
        Message = "[DEVELOPMENT EMAIL PROVIDER: Console, nothing is sent] Activation code for {Recipient}: {ActivationCode} (expires {ExpiresAtUtc:u}, user {UserId}, message {MessageReference})")]
    private static partial void LogCode(ILogger logger, string recipient, string activationCode, DateTime expiresAtUtc, Guid userId, string messageReference);
}
