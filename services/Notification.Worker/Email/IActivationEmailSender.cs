namespace Notification.Worker.Email;

/// <summary>
/// Sends one activation email through the configured provider. Provider answers are results,
/// not exceptions: the caller decides what a transient or permanent failure means for the
/// message. Only cancellation by the caller's token throws.
/// </summary>
public interface IActivationEmailSender
{
    Task<EmailSendResult> SendAsync(ActivationEmail email, CancellationToken cancellationToken);
}

public enum EmailSendOutcome
{
    /// <summary>The provider took the email.</summary>
    Accepted,

    /// <summary>Worth trying again later: 5xx, 408, 429, timeouts, network errors, open circuit.</summary>
    TransientFailure,

    /// <summary>Trying again cannot help: any other 4xx, or a message the provider rejected.</summary>
    PermanentFailure,
}

/// <param name="Reason">
/// Why it failed, in the provider's words where it gave any; the recipient and the code are
/// masked out so that it may be logged and kept in the error queue.
/// </param>
public sealed record EmailSendResult(EmailSendOutcome Outcome, string? Reason)
{
    public static EmailSendResult Accepted { get; } = new(EmailSendOutcome.Accepted, null);

    public static EmailSendResult Transient(string reason) => new(EmailSendOutcome.TransientFailure, reason);

    public static EmailSendResult Permanent(string reason) => new(EmailSendOutcome.PermanentFailure, reason);
}
