namespace Notification.Worker.Consumers;

// User ids and message ids only: never the address or the code.
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Activation email for user {UserId} accepted by the provider (message {MessageId})")]
    public static partial void EmailSent(ILogger logger, Guid userId, Guid? messageId);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Message {MessageId} for user {UserId} was already handled: nothing sent")]
    public static partial void AlreadyHandled(ILogger logger, Guid messageId, Guid userId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Message for user {UserId} has no MessageId: it cannot be deduplicated, sending anyway")]
    public static partial void NoMessageId(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Activation code of user {UserId} expired at {CodeExpiresAt:o} before it could be emailed (message {MessageId}): asking for a fresh one")]
    public static partial void CodeExpired(ILogger logger, Guid userId, DateTimeOffset codeExpiresAt, Guid? messageId);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Activation email for user {UserId} failed, will retry (message {MessageId}): {Reason}")]
    public static partial void TransientFailure(ILogger logger, Guid userId, Guid? messageId, string? reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Activation email for user {UserId} refused by the provider, no retry (message {MessageId}): {Reason}")]
    public static partial void PermanentFailure(ILogger logger, Guid userId, Guid? messageId, string? reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Email for user {UserId} was sent but message {MessageId} could not be recorded: a redelivery of it would be sent again")]
    public static partial void RecordFailed(ILogger logger, Exception exception, Guid userId, Guid messageId);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Forgot {Count} processed message ids older than {Cutoff:o}")]
    public static partial void Purged(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Purging old processed message ids failed; trying again later")]
    public static partial void PurgeFailed(ILogger logger, Exception exception);
}
