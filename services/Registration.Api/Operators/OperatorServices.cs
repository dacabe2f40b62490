using Npgsql;

namespace Registration.Api.Operators;

/// <summary>What the operator handlers use, bound with <c>[AsParameters]</c>; logs under <see cref="Log.Category"/>.</summary>
public sealed record OperatorServices(NpgsqlDataSource DataSource, ILoggerFactory LoggerFactory)
{
    public ILogger Logger { get; } = LoggerFactory.CreateLogger(Log.Category);
}

// User ids only. Event ids 1300-1399.
internal static partial class Log
{
    public const string Category = "Registration.Api.Operators";

    [LoggerMessage(EventId = 1300, EventName = "UserDeletedByOperator", Level = LogLevel.Information, Message = "User {UserId} deleted by an operator")]
    public static partial void UserDeleted(ILogger logger, Guid userId);
}
