namespace Notification.Worker.Email;

/// <summary>
/// Sends one email through the configured provider. Provider answers are results, not exceptions:
/// the caller decides what a transient or permanent failure means for the message. Only
/// cancellation by the caller's token throws.
/// </summary>
public interface IEmailSender
{
    Task<EmailSendResult> SendAsync(OutgoingEmail email, CancellationToken cancellationToken);
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
/// Why it failed, in the provider's words where it gave any; addresses and the code are masked
/// (<see cref="OutgoingEmail.Redact"/>) so that it may be logged and kept in the error queue.
/// </param>
/// <param name="RetryAfter">
/// A transient failure whose answer (429 or 503) asked for a longer wait than the HTTP retries
/// honour: the send is not tried again before this much time has passed.
/// </param>
public sealed record EmailSendResult(EmailSendOutcome Outcome, string? Reason, TimeSpan? RetryAfter = null)
{
    public static EmailSendResult Accepted { get; } = new(EmailSendOutcome.Accepted, null);

    public static EmailSendResult Transient(string reason, TimeSpan? retryAfter = null) => new(EmailSendOutcome.TransientFailure, reason, retryAfter);

    public static EmailSendResult Permanent(string reason) => new(EmailSendOutcome.PermanentFailure, reason);
}
