using Dapper;
using Npgsql;

namespace Resilience.Tests.Support;

/// <summary>Straight SQL on a test's database (directly, never through a proxy): what the services wrote.</summary>
public sealed class TestDatabase(string connectionString)
{
    static TestDatabase() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task<long> CountUsersAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM users");
    }

    /// <summary>The latest code issued to each of the users (the one an email must carry to be usable).</summary>
    public async Task<IReadOnlyDictionary<Guid, IssuedCode>> LatestCodesAsync(IEnumerable<Guid> userIds)
    {
        await using var connection = await OpenAsync();
        var codes = await connection.QueryAsync<IssuedCode>(
            """
            SELECT DISTINCT ON (user_id) user_id, code, reason, failed_attempts, superseded_at IS NOT NULL AS superseded,
                   used_at IS NOT NULL AS used
            FROM activation_codes WHERE user_id = ANY(@Ids)
            ORDER BY user_id, issued_at DESC
            """,
            new { Ids = userIds.ToArray() });
        return codes.ToDictionary(code => code.UserId);
    }

    public async Task<IReadOnlyList<IssuedCode>> CodesAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<IssuedCode>(
            """
            SELECT user_id, code, reason, failed_attempts, superseded_at IS NOT NULL AS superseded, used_at IS NOT NULL AS used
            FROM activation_codes WHERE user_id = @UserId ORDER BY issued_at
            """,
            new { UserId = userId })).AsList();
    }

    public async Task<Guid?> UserIdAsync(string email)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<Guid?>("SELECT id FROM users WHERE lower(email) = lower(@Email)", new { Email = email });
    }

    public async Task<string?> StatusAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<string?>("SELECT status FROM users WHERE id = @Id", new { Id = userId });
    }

    /// <summary>
    /// What a half-written registration would leave: a user with no code, or a code with no outbox row
    /// carrying it (so no email could ever announce it).
    /// </summary>
    public async Task<PartialRecords> FindPartialRecordsAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<PartialRecords>(
            """
            SELECT
              (SELECT count(*) FROM users u
               WHERE NOT EXISTS (SELECT FROM activation_codes c WHERE c.user_id = u.id)) AS users_without_code,
              (SELECT count(*) FROM activation_codes c
               WHERE NOT EXISTS (SELECT FROM outbox_messages o
                                 WHERE o.payload->>'userId' = c.user_id::text AND o.payload->>'activationCode' = c.code))
                AS codes_without_outbox_row
            """);
    }

    public async Task<OutboxState> OutboxAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<OutboxState>(
            """
            SELECT count(*) AS rows,
                   count(*) FILTER (WHERE dispatched_at IS NOT NULL) AS dispatched,
                   count(*) FILTER (WHERE dispatched_at IS NULL AND attempts > 0) AS failed_and_waiting,
                   coalesce(sum(attempts), 0) AS failed_attempts
            FROM outbox_messages
            """);
    }

    /// <summary>Messages for these users that a worker has recorded as handled.</summary>
    public async Task<long> CountProcessedMessagesAsync(IEnumerable<Guid> userIds)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM notification.processed_messages WHERE user_id = ANY(@Ids)", new { Ids = userIds.ToArray() });
    }

    /// <summary>Outbox rows not yet handled by a worker (no row in <c>notification.processed_messages</c>).</summary>
    public async Task<long> CountUnprocessedMessagesAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM outbox_messages o
            WHERE NOT EXISTS (SELECT FROM notification.processed_messages p WHERE p.message_id = o.id)
            """);
    }
}

public sealed record IssuedCode(Guid UserId, string Code, string Reason, int FailedAttempts, bool Superseded, bool Used)
{
    public bool Live => !Superseded && !Used;
}

public sealed record PartialRecords(long UsersWithoutCode, long CodesWithoutOutboxRow);

public sealed record OutboxState(long Rows, long Dispatched, long FailedAndWaiting, long FailedAttempts);
