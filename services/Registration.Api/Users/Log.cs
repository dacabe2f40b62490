namespace Registration.Api.Users;

// User ids only: never the email, the password or its hash. Event ids 1000-1099.
internal static partial class Log
{
    public const string Category = "Registration.Api.Users";

    [LoggerMessage(EventId = 1000, EventName = "UserRegistered", Level = LogLevel.Information, Message = "User {UserId} registered")]
    public static partial void UserRegistered(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 1001, EventName = "UserUpdated", Level = LogLevel.Information, Message = "User {UserId} updated (email: {EmailChange}, password changed: {PasswordChanged})")]
    public static partial void UserUpdated(ILogger logger, Guid userId, EmailChange emailChange, bool passwordChanged);

    [LoggerMessage(EventId = 1002, EventName = "UserDeleted", Level = LogLevel.Information, Message = "User {UserId} deleted their account")]
    public static partial void UserDeleted(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 1003, EventName = "UserRegisteredReplacing", Level = LogLevel.Information, Message = "User {UserId} registered, replacing never-activated pending user {ReplacedUserId} whose code had expired")]
    public static partial void UserRegisteredReplacing(ILogger logger, Guid userId, Guid replacedUserId);

    [LoggerMessage(EventId = 1004, EventName = "EmailChangeConfirmed", Level = LogLevel.Information, Message = "User {UserId} confirmed their new email address (replaced pending user: {ReplacedUserId})")]
    public static partial void EmailChangeConfirmed(ILogger logger, Guid userId, Guid? replacedUserId);

    [LoggerMessage(EventId = 1005, EventName = "EmailChangeRejected", Level = LogLevel.Information, Message = "Email confirmation of user {UserId} rejected: {Outcome}")]
    public static partial void EmailChangeRejected(ILogger logger, Guid userId, string outcome);

    [LoggerMessage(EventId = 1006, EventName = "EmailKeyComputed", Level = LogLevel.Information, Message = "Computed the address keys of {Count} users migrated with a non-ASCII address")]
    public static partial void EmailKeysComputed(ILogger logger, int count);

    [LoggerMessage(EventId = 1007, EventName = "EmailKeyCollision", Level = LogLevel.Warning, Message = "User {UserId}'s address is the same address as user {OtherUserId}'s under NFC and case folding; it keeps the placeholder key {PlaceholderKey} and cannot sign in until an operator deletes one of the two accounts")]
    public static partial void EmailKeyCollision(ILogger logger, Guid userId, Guid otherUserId, string placeholderKey);
}
