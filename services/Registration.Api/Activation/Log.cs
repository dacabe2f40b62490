namespace Registration.Api.Activation;

// User ids only: never the email or the code. Event ids 1100-1199.
internal static partial class Log
{
    public const string Category = "Registration.Api.Activation";

    [LoggerMessage(EventId = 1100, EventName = "UserActivated", Level = LogLevel.Information, Message = "User {UserId} activated")]
    public static partial void UserActivated(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 1101, EventName = "ActivationRejected", Level = LogLevel.Information, Message = "Activation of user {UserId} rejected: {Outcome}")]
    public static partial void ActivationRejected(ILogger logger, Guid userId, string outcome);

    [LoggerMessage(EventId = 1102, EventName = "CodeReissued", Level = LogLevel.Information, Message = "New activation code for user {UserId} ({Reason})")]
    public static partial void CodeReissued(ILogger logger, Guid userId, string reason);

    [LoggerMessage(EventId = 1103, EventName = "RedeliveryIgnored", Level = LogLevel.Information, Message = "Expired-before-delivery for user {UserId} ignored: {Why}")]
    public static partial void RedeliveryIgnored(ILogger logger, Guid userId, string why);
}
