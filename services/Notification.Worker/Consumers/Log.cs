using Notification.Worker.Email;

namespace Notification.Worker.Consumers;

// User ids and message ids only: never the address or the code. Event ids 2000-2099.
internal static partial class Log
{
    // Debug: a line for every email is the volume of the traffic, not an event; the outcome is in
    // notification.processed_messages and the sent counter. Failures and skips keep their lines.
    [LoggerMessage(EventId = 2000, EventName = "EmailSent", Level = LogLevel.Debug, Message = "Email {Kind} for user {UserId} accepted by the provider (message {MessageId})")]
    public static partial void EmailSent(ILogger logger, EmailKind kind, Guid userId, Guid? messageId);

    [LoggerMessage(EventId = 2001, EventName = "AlreadyHandled", Level = LogLevel.Information, Message = "Message {MessageId} for user {UserId} was already handled: nothing sent")]
    public static partial void AlreadyHandled(ILogger logger, Guid messageId, Guid userId);

    [LoggerMessage(EventId = 2002, EventName = "NoMessageId", Level = LogLevel.Warning, Message = "Message for user {UserId} has no MessageId: it cannot be deduplicated, sending anyway")]
    public static partial void NoMessageId(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 2003, EventName = "CodeExpired", Level = LogLevel.Warning, Message = "Code of email {Kind} for user {UserId} expired at {CodeExpiresAt:o} before it could be emailed (message {MessageId}): asking for a fresh one")]
    public static partial void CodeExpired(ILogger logger, EmailKind kind, Guid userId, DateTimeOffset codeExpiresAt, Guid? messageId);

    [LoggerMessage(EventId = 2004, EventName = "TransientFailure", Level = LogLevel.Warning, Message = "Email {Kind} for user {UserId} failed (attempt {Attempt}), will retry (message {MessageId}): {Reason}")]
    public static partial void TransientFailure(ILogger logger, EmailKind kind, Guid userId, Guid? messageId, int attempt, string? reason);

    [LoggerMessage(EventId = 2015, EventName = "DeadLettered", Level = LogLevel.Error, Message = "Email {Kind} for user {UserId} failed (attempt {Attempt}, the last): to the error queue, for an operator to replay (message {MessageId}): {Reason}")]
    public static partial void DeadLettered(ILogger logger, EmailKind kind, Guid userId, Guid? messageId, int attempt, string? reason);

    [LoggerMessage(EventId = 2005, EventName = "PermanentFailure", Level = LogLevel.Error, Message = "Email {Kind} for user {UserId} refused by the provider, no retry (message {MessageId}): {Reason}")]
    public static partial void PermanentFailure(ILogger logger, EmailKind kind, Guid userId, Guid? messageId, string? reason);

    [LoggerMessage(EventId = 2006, EventName = "RecordFailed", Level = LogLevel.Error, Message = "Email for user {UserId} was sent but message {MessageId} could not be recorded: a redelivery of it would be sent again")]
    public static partial void RecordFailed(ILogger logger, Exception exception, Guid userId, Guid messageId);

    [LoggerMessage(EventId = 2007, EventName = "Purged", Level = LogLevel.Information, Message = "Forgot {Count} processed message ids older than {Cutoff:o}")]
    public static partial void Purged(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 2008, EventName = "Superseded", Level = LogLevel.Information, Message = "Email {Kind} for user {UserId} not sent: a newer code for the same address was already handled (message {MessageId})")]
    public static partial void Superseded(ILogger logger, EmailKind kind, Guid userId, Guid messageId);

    [LoggerMessage(EventId = 2009, EventName = "HeldElsewhere", Level = LogLevel.Information, Message = "Message {MessageId} for user {UserId} is being sent by another worker (lease until {LeaseUntil:o}): waiting for it to finish or its lease to end")]
    public static partial void HeldElsewhere(ILogger logger, Guid messageId, Guid userId, DateTimeOffset? leaseUntil);

    [LoggerMessage(EventId = 2010, EventName = "ClaimLost", Level = LogLevel.Warning, Message = "The claim of message {MessageId} for user {UserId} ran out while it was being sent and another worker took it: the email may go out twice")]
    public static partial void ClaimLost(ILogger logger, Guid userId, Guid messageId);

    [LoggerMessage(EventId = 2011, EventName = "ReleaseFailed", Level = LogLevel.Warning, Message = "The claim of message {MessageId} for user {UserId} could not be released: its next delivery waits until the lease ends")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, Guid userId, Guid messageId);

    [LoggerMessage(EventId = 2012, EventName = "RenewFailed", Level = LogLevel.Warning, Message = "The claim of message {MessageId} for user {UserId} could not be renewed during a long send")]
    public static partial void RenewFailed(ILogger logger, Exception exception, Guid userId, Guid messageId);

    [LoggerMessage(EventId = 2013, EventName = "Deferred", Level = LogLevel.Warning, Message = "Email {Kind} for user {UserId}: the provider asked to wait {RetryAfter}, so it comes back no sooner than that (message {MessageId}): {Reason}")]
    public static partial void Deferred(ILogger logger, EmailKind kind, Guid userId, Guid? messageId, TimeSpan retryAfter, string? reason);

    [LoggerMessage(EventId = 2014, EventName = "ThrottledTooOften", Level = LogLevel.Error, Message = "Email {Kind} for user {UserId}: the provider asked it to wait again after {Deferrals} wait(s): to the error queue (message {MessageId}): {Reason}")]
    public static partial void ThrottledTooOften(ILogger logger, EmailKind kind, Guid userId, Guid? messageId, int deferrals, string? reason);
}
