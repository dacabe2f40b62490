namespace Registration.Api.Users;

// User ids only: never the email, the password or its hash. Event ids 1000-1099.
internal static partial class Log
{
    public const string Category = "Registration.Api.Users";

    [LoggerMessage(EventId = 1000, EventName = "UserRegistered", Level = LogLevel.Information, Message = "User {UserId} registered")]
    public static partial void UserRegistered(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 1001, EventName = "UserUpdated", Level = LogLevel.Information, Message = "User {UserId} updated (email changed: {EmailChanged}, password changed: {PasswordChanged})")]
    public static partial void UserUpdated(ILogger logger, Guid userId, bool emailChanged, bool passwordChanged);

    [LoggerMessage(EventId = 1002, EventName = "UserDeleted", Level = LogLevel.Information, Message = "User {UserId} deleted their account")]
    public static partial void UserDeleted(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 1003, EventName = "UserRegisteredReplacing", Level = LogLevel.Information, Message = "User {UserId} registered, replacing never-activated pending user {ReplacedUserId} whose code had expired")]
    public static partial void UserRegisteredReplacing(ILogger logger, Guid userId, Guid replacedUserId);
}
