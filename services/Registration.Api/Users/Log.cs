namespace Registration.Api.Users;

// User ids only: never the email, the password or its hash.
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "User {UserId} registered")]
    public static partial void UserRegistered(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "User {UserId} registered, replacing never-activated pending user {ReplacedUserId} whose code had expired")]
    public static partial void UserRegisteredReplacing(ILogger logger, Guid userId, Guid replacedUserId);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "User {UserId} updated (email changed: {EmailChanged}, password changed: {PasswordChanged})")]
    public static partial void UserUpdated(ILogger logger, Guid userId, bool emailChanged, bool passwordChanged);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "User {UserId} deleted by {Actor}")]
    public static partial void UserDeleted(ILogger logger, Guid userId, string actor);
}
