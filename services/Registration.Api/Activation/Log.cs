namespace Registration.Api.Activation;

// User ids only: never the email or the code.
internal static partial class Log
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "User {UserId} activated")]
    public static partial void UserActivated(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Activation of user {UserId} rejected: {Outcome}")]
    public static partial void ActivationRejected(ILogger logger, Guid userId, string outcome);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "New activation code for user {UserId} ({Reason})")]
    public static partial void CodeReissued(ILogger logger, Guid userId, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Expired-before-delivery for user {UserId} ignored: {Why}")]
    public static partial void RedeliveryIgnored(ILogger logger, Guid userId, string why);
}
