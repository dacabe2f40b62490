using Dapper;
using Npgsql;

namespace Registration.Api.Tests.Support;

/// <summary>Straight SQL on a test's database: reads what the API wrote, and sets up what it cannot.</summary>
public sealed class TestDatabase(string connectionString)
{
    static TestDatabase() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>The user's current code: neither superseded nor used (what the email would carry).</summary>
    public async Task<StoredCode> GetCurrentCodeAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<StoredCode>(
            """
            SELECT id, code, issued_at, expires_at, failed_attempts FROM activation_codes
            WHERE user_id = @UserId AND superseded_at IS NULL AND used_at IS NULL
            """,
            new { UserId = userId });
    }

    public async Task<IReadOnlyList<StoredCode>> GetCodesAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredCode>(
            "SELECT id, code, issued_at, expires_at, failed_attempts FROM activation_codes WHERE user_id = @UserId ORDER BY issued_at",
            new { UserId = userId })).AsList();
    }

    /// <summary>Outbox rows whose payload names the user.</summary>
    public async Task<IReadOnlyList<StoredOutboxMessage>> GetOutboxMessagesAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredOutboxMessage>(
            $"{StoredOutboxMessage.Select} WHERE payload->>'userId' = @UserId ORDER BY created_at",
            new { UserId = userId.ToString() })).AsList();
    }

    /// <summary>Outbox rows whose payload carries the email, however its case.</summary>
    public async Task<IReadOnlyList<StoredOutboxMessage>> GetOutboxMessagesAsync(string email)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredOutboxMessage>(
            $"{StoredOutboxMessage.Select} WHERE lower(payload->>'email') = lower(@Email) ORDER BY created_at",
            new { Email = email })).AsList();
    }

    public async Task<IReadOnlyList<StoredOutboxMessage>> GetOutboxMessagesByIdAsync(IReadOnlyCollection<Guid> ids)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredOutboxMessage>(
            $"{StoredOutboxMessage.Select} WHERE id = ANY(@Ids) ORDER BY created_at",
            new { Ids = ids.ToArray() })).AsList();
    }

    public async Task<IReadOnlyList<StoredUser>> GetUsersAsync(string email)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredUser>(
            "SELECT id, email, status, password_hash FROM users WHERE lower(email) = lower(@Email)",
            new { Email = email })).AsList();
    }

    public async Task<long> CountCodesOfUsersWithEmailAsync(string email)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM activation_codes c JOIN users u ON u.id = c.user_id WHERE lower(u.email) = lower(@Email)",
            new { Email = email });
    }

    public async Task<long> CountOrphanCodesAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM activation_codes c WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = c.user_id)");
    }

    public async Task ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync(sql, parameters);
    }
}

public sealed record StoredCode(Guid Id, string Code, DateTime IssuedAt, DateTime ExpiresAt, int FailedAttempts);

public sealed record StoredUser(Guid Id, string Email, string Status, string PasswordHash);

public sealed record StoredOutboxMessage(
    Guid Id, string MessageType, string Payload, DateTime CreatedAt, int Attempts, string? LastError, DateTime? DispatchedAt)
{
    public const string Select =
        "SELECT id, message_type, payload::text AS payload, created_at, attempts, last_error, dispatched_at FROM outbox_messages";
}
