using Dapper;
using Npgsql;

namespace EndToEnd.Tests.Support;

/// <summary>Reads what the services wrote, for assertions; never writes.</summary>
public sealed class EndToEndDatabase(string connectionString)
{
    /// <summary>Every code issued to the user, oldest first.</summary>
    public async Task<IReadOnlyList<IssuedCode>> CodesAsync(Guid userId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var codes = await connection.QueryAsync<IssuedCode>(
            """
            SELECT code, reason, issued_at, expires_at FROM activation_codes
            WHERE user_id = @userId ORDER BY issued_at
            """,
            new { userId });
        return codes.AsList();
    }

    /// <summary>The outbox rows about the user, oldest first.</summary>
    public async Task<IReadOnlyList<OutboxRow>> OutboxAsync(Guid userId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var rows = await connection.QueryAsync<OutboxRow>(
            """
            SELECT id, message_type, payload->>'reason' AS reason, payload->>'activationCode' AS activation_code,
                   trace_parent, dispatched_at
            FROM outbox_messages
            WHERE (payload->>'userId')::uuid = @userId ORDER BY created_at
            """,
            new { userId });
        return rows.AsList();
    }

    /// <summary>What the worker recorded for a MessageId in its own schema: "sent", "expired", or null.</summary>
    public async Task<string?> ProcessedOutcomeAsync(Guid messageId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.QuerySingleOrDefaultAsync<string?>(
            "SELECT outcome FROM notification.processed_messages WHERE message_id = @messageId", new { messageId });
    }
}

public sealed record IssuedCode(string Code, string Reason, DateTime IssuedAt, DateTime ExpiresAt);

public sealed record OutboxRow(Guid Id, string MessageType, string? Reason, string? ActivationCode, string? TraceParent, DateTime? DispatchedAt)
{
    public string? TraceId => TraceParent?.Split('-') is [_, var traceId, _, _] ? traceId : null;
}
