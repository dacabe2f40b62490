extern alias Api;
using Api::Registration.Api.Infrastructure;
using Api::Registration.Api.Users;
using Dapper;
using FluentAssertions;
using Npgsql;
using Registration.Hosting;

namespace Registration.Testing.Probes;

/// <summary>
/// Straight SQL on a test's database, always over a direct connection (never through a proxy a test
/// may have cut): reads what the services wrote, and sets up what the API cannot.
/// </summary>
public sealed class TestDatabase(string connectionString)
{
    static TestDatabase() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync(sql, parameters);
    }

    // ---- Schema ----------------------------------------------------------------------------------

    /// <summary>
    /// The API's schema as an older version left it: its migrations up to and including the one whose file name
    /// starts with <paramref name="lastScript"/> (e.g. "0001"), recorded in its journal as DbUp records them, so
    /// that an API started afterwards applies only the later ones, over whatever rows the test wrote between.
    /// </summary>
    public async Task ApplyApiMigrationsUpToAsync(string lastScript)
    {
        var migrations = ApplicationServices.Migrations;
        var last = migrations.ScriptNames.ToList().FindIndex(name => FileName(name).StartsWith(lastScript, StringComparison.Ordinal));
        var scripts = migrations.ScriptNames.Take(last + 1).ToList();
        scripts.Should().NotBeEmpty("the API has a migration {0}", lastScript);
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync($"""
            CREATE TABLE "{migrations.Schema}"."{migrations.JournalTable}" (
                schemaversionsid serial NOT NULL PRIMARY KEY,
                scriptname character varying(255) NOT NULL,
                applied timestamp without time zone NOT NULL)
            """);
        foreach (var script in scripts)
        {
            await using var stream = migrations.Assembly.GetManifestResourceStream(script)!;
            using var reader = new StreamReader(stream);
            await connection.ExecuteAsync(await reader.ReadToEndAsync());
            await connection.ExecuteAsync(
                $"""INSERT INTO "{migrations.Schema}"."{migrations.JournalTable}" (scriptname, applied) VALUES (@Script, now())""",
                new { Script = script });
        }

        static string FileName(string resource) =>
            resource[(resource.IndexOf(SchemaMigrations.ResourceFolder, StringComparison.Ordinal) + SchemaMigrations.ResourceFolder.Length)..];
    }

    // ---- Users -----------------------------------------------------------------------------------

    /// <summary>A pending user written straight into the table, with no code: for set-ups the API cannot make.</summary>
    public const string InsertPendingUserSql = """
        INSERT INTO users (id, email, email_key, password_hash, status, created_at, last_code_issued_at)
        VALUES (@Id, @Email, @EmailKey, 'not a hash', 'pending', @CreatedAt, @CreatedAt)
        """;

    /// <summary>The parameters of <see cref="InsertPendingUserSql"/>, the address keyed as the API keys it.</summary>
    public static object PendingUser(Guid id, string email, DateTimeOffset createdAt) =>
        new { Id = id, Email = email, EmailKey = EmailAddress.KeyOf(email), CreatedAt = createdAt };

    public Task InsertPendingUserAsync(Guid id, string email, DateTimeOffset createdAt) =>
        ExecuteAsync(InsertPendingUserSql, PendingUser(id, email, createdAt));

    /// <summary>Users whose email is <paramref name="email"/>, however its case.</summary>
    public async Task<IReadOnlyList<StoredUser>> GetUsersAsync(string email)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredUser>($"{StoredUser.Select} WHERE lower(email) = lower(@Email)", new { Email = email })).AsList();
    }

    public async Task<Guid?> GetUserIdAsync(string email) => (await GetUsersAsync(email)).SingleOrDefault()?.Id;

    /// <summary>"pending", "active", or null when the user is gone.</summary>
    public async Task<string?> GetStatusAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<string?>("SELECT status FROM users WHERE id = @Id", new { Id = userId });
    }

    // ---- Activation codes ------------------------------------------------------------------------

    /// <summary>The user's current code: neither superseded nor used (what the email would carry).</summary>
    public async Task<StoredCode> GetCurrentCodeAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<StoredCode>(
            $"{StoredCode.Select} WHERE user_id = @UserId AND superseded_at IS NULL AND used_at IS NULL", new { UserId = userId });
    }

    /// <summary>Every code issued to the user, oldest first.</summary>
    public async Task<IReadOnlyList<StoredCode>> GetCodesAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredCode>($"{StoredCode.Select} WHERE user_id = @UserId ORDER BY issued_at", new { UserId = userId })).AsList();
    }

    /// <summary>The latest code issued to each of the users: the one an email must carry to be usable.</summary>
    public async Task<IReadOnlyDictionary<Guid, StoredCode>> GetLatestCodesAsync(IEnumerable<Guid> userIds)
    {
        await using var connection = await OpenAsync();
        var codes = await connection.QueryAsync<StoredCode>(
            $"SELECT DISTINCT ON (user_id) {StoredCode.Columns} FROM activation_codes WHERE user_id = ANY(@Ids) ORDER BY user_id, issued_at DESC",
            new { Ids = userIds.ToArray() });
        return codes.ToDictionary(code => code.UserId);
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

    // ---- Outbox ----------------------------------------------------------------------------------

    /// <summary>Outbox rows whose payload names the user, oldest first.</summary>
    public async Task<IReadOnlyList<StoredOutboxMessage>> GetOutboxMessagesAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredOutboxMessage>(
            $"{StoredOutboxMessage.Select} WHERE payload->>'userId' = @UserId ORDER BY created_at, id", new { UserId = userId.ToString() })).AsList();
    }

    /// <summary>
    /// The user's unpublished outbox rows that no transaction holds, i.e. not under a publish at this moment (the
    /// dispatcher holds a row's lock while it publishes it): the rows that would still be published later.
    /// </summary>
    public async Task<int> CountUnpublishedUnheldAsync(Guid userId)
    {
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        return await connection.ExecuteScalarAsync<int>(
            """
            SELECT count(*) FROM (
                SELECT id FROM outbox_messages WHERE payload->>'userId' = @UserId AND dispatched_at IS NULL
                FOR UPDATE SKIP LOCKED) unheld
            """,
            new { UserId = userId.ToString() }, transaction);
    }

    /// <summary>
    /// Holds the user's unpublished outbox rows locked, as the dispatcher does while it publishes them, until the
    /// returned object is disposed. A row the dispatcher already holds (a publish under way) is left to it: either
    /// way every row is held until then, or was published. With <paramref name="afterAPublishUnderWay"/>, such a
    /// row is waited for instead (for a dispatcher whose publishes end at once): then this holds every row the
    /// publish left unpublished.
    /// </summary>
    public async Task<IAsyncDisposable> HoldUnpublishedAsync(Guid userId, bool afterAPublishUnderWay = false)
    {
        var connection = await OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            $"SELECT id FROM outbox_messages WHERE payload->>'userId' = @UserId AND dispatched_at IS NULL FOR UPDATE{(afterAPublishUnderWay ? string.Empty : " SKIP LOCKED")}",
            new { UserId = userId.ToString() }, transaction);
        return new HeldRows(connection, transaction);
    }

    private sealed class HeldRows(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// Outbox rows whose email goes to <paramref name="email"/>, however its case: a code (<c>email</c> of
    /// UserRegistered and ActivationCodeReissued, <c>newEmail</c> of EmailChangeRequested) or the notice of a
    /// change (<c>oldEmail</c> of EmailChanged).
    /// </summary>
    public async Task<IReadOnlyList<StoredOutboxMessage>> GetOutboxMessagesAsync(string email)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredOutboxMessage>(
            $"""
            {StoredOutboxMessage.Select}
            WHERE lower(CASE message_type WHEN 'EmailChangeRequested' THEN payload->>'newEmail'
                                          WHEN 'EmailChanged' THEN payload->>'oldEmail'
                                          ELSE payload->>'email' END) = lower(@Email)
            ORDER BY created_at, id
            """,
            new { Email = email })).AsList();
    }

    public async Task<IReadOnlyList<StoredOutboxMessage>> GetOutboxMessagesByIdAsync(IReadOnlyCollection<Guid> ids)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredOutboxMessage>(
            $"{StoredOutboxMessage.Select} WHERE id = ANY(@Ids) ORDER BY created_at, id", new { Ids = ids.ToArray() })).AsList();
    }

    /// <summary>
    /// Writes an outbox row as the API would, but with any type and payload (a poison row), created
    /// <paramref name="createdAgo"/> before the database's now, and parked <paramref name="parkedAgo"/> before it
    /// when given. The insert's NOTIFY wakes the dispatcher as a registration would.
    /// </summary>
    public async Task<Guid> InsertOutboxRowAsync(string messageType, string payloadJson, TimeSpan? createdAgo = null, TimeSpan? parkedAgo = null)
    {
        var id = Guid.CreateVersion7();
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync(
            """
            INSERT INTO outbox_messages (id, message_type, payload, created_at, parked_at, parked_reason)
            VALUES (@Id, @MessageType, @Payload::jsonb, now() - @CreatedAgo,
                    now() - @ParkedAgo::interval, CASE WHEN @ParkedAgo::interval IS NULL THEN NULL ELSE 'parked by a test' END)
            """,
            new { Id = id, MessageType = messageType, Payload = payloadJson, CreatedAgo = createdAgo ?? TimeSpan.Zero, ParkedAgo = parkedAgo });
        return id;
    }

    /// <summary>Where outbox rows stand as to parking; a deleted row is absent.</summary>
    public async Task<IReadOnlyList<StoredOutboxParking>> GetOutboxParkingAsync(params Guid[] ids)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<StoredOutboxParking>(
            $"{StoredOutboxParking.Select} WHERE id = ANY(@Ids) ORDER BY created_at, id", new { Ids = ids })).AsList();
    }

    /// <summary>The whole outbox in four numbers.</summary>
    public async Task<OutboxState> GetOutboxStateAsync()
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

    /// <summary>
    /// A service's DbUp journal: each script it recorded and how many times, next to the scripts the service
    /// embeds. A script applied twice (two instances migrating at once) would show twice.
    /// </summary>
    public async Task<MigrationJournal> GetMigrationJournalAsync(SchemaMigrations migrations)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        await using var connection = await OpenAsync();
        var rows = await connection.QueryAsync<(string Script, int Times)>(
            $"SELECT scriptname, count(*)::int FROM \"{migrations.Schema}\".\"{migrations.JournalTable}\" GROUP BY scriptname");
        return new MigrationJournal(migrations.ScriptNames, rows.ToDictionary(row => row.Script, row => row.Times, StringComparer.Ordinal));
    }

    /// <summary>Every outbox row's id (its MessageId).</summary>
    public async Task<IReadOnlyCollection<Guid>> GetOutboxMessageIdsAsync()
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<Guid>("SELECT id FROM outbox_messages")).AsList();
    }

    // ---- The worker's schema ---------------------------------------------------------------------

    /// <summary>What the worker recorded for a MessageId: "sent", "expired", "superseded", "claimed" while it is being sent, or null.</summary>
    public async Task<string?> GetProcessedOutcomeAsync(Guid messageId)
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleOrDefaultAsync<string?>(
            "SELECT outcome FROM notification.processed_messages WHERE message_id = @messageId", new { messageId });
    }

    /// <summary>Until when the claim on the MessageId is leased; null once it ended (or there is none).</summary>
    public async Task<DateTimeOffset?> GetLeaseUntilAsync(Guid messageId)
    {
        await using var connection = await OpenAsync();
        var until = await connection.QuerySingleOrDefaultAsync<DateTime?>(
            "SELECT lease_until FROM notification.processed_messages WHERE message_id = @messageId", new { messageId });
        return until is { } utc ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : null;
    }

    /// <summary>Waits until a worker recorded <paramref name="outcome"/> ("sent", "expired") for the MessageId.</summary>
    public Task WaitForOutcomeAsync(Guid messageId, string outcome) =>
        Eventually.GetAsync(() => GetProcessedOutcomeAsync(messageId), recorded => recorded == outcome, $"message {messageId} recorded as {outcome}");

    /// <summary>What a worker that died while sending leaves in its table: its claim on the message, leased until <paramref name="leaseUntil"/>.</summary>
    public async Task ClaimAsADeadWorkerAsync(Guid messageId, Guid userId, DateTimeOffset leaseUntil)
    {
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync(
            """
            INSERT INTO notification.processed_messages (message_id, user_id, outcome, processed_at, lease_token, lease_until)
            VALUES (@messageId, @userId, 'claimed', @leaseUntil, @token, @leaseUntil)
            """,
            new { messageId, userId, leaseUntil, token = Guid.NewGuid() });
    }

    /// <summary>The updates of <c>notification.processed_messages</c> PostgreSQL has counted so far, and how many were heap-only.</summary>
    public async Task<TableUpdates> GetProcessedMessagesUpdatesAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<TableUpdates>(
            """
            SELECT n_tup_upd AS updated, n_tup_hot_upd AS heaponly FROM pg_stat_user_tables
            WHERE schemaname = 'notification' AND relname = 'processed_messages'
            """);
    }

    /// <summary>
    /// Holds the MessageId's row locked, as a transaction in the middle of writing it would, until the handle is
    /// disposed: a claim statement that reaches the row waits there (see <see cref="WaitForALockWaitAsync"/>), so
    /// the claims queued meanwhile are written together in the statement after it.
    /// </summary>
    public async Task<IAsyncDisposable> LockProcessedMessageAsync(Guid messageId)
    {
        var connection = await OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        var locked = await connection.QueryAsync<Guid>(
            "SELECT message_id FROM notification.processed_messages WHERE message_id = @messageId FOR UPDATE", new { messageId }, transaction);
        locked.Should().ContainSingle("the row to lock exists");
        return new RowLock(connection, transaction);
    }

    /// <summary>Waits until a statement on this database waits for a lock another transaction holds.</summary>
    public Task WaitForALockWaitAsync() => Eventually.HoldsAsync(
        async () =>
        {
            await using var connection = await OpenAsync();
            return await connection.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0;
        },
        "a statement waiting for a row lock");

    /// <summary>Messages for these users that a worker has finished with (a claim still being sent does not count).</summary>
    public async Task<long> CountProcessedMessagesAsync(IEnumerable<Guid> userIds)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM notification.processed_messages WHERE user_id = ANY(@Ids) AND outcome <> 'claimed'", new { Ids = userIds.ToArray() });
    }

    /// <summary>Outbox rows no worker has finished with yet.</summary>
    public async Task<long> CountUnprocessedMessagesAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM outbox_messages o
            WHERE NOT EXISTS (SELECT FROM notification.processed_messages p WHERE p.message_id = o.id AND p.outcome <> 'claimed')
            """);
    }
}

public sealed record StoredUser(Guid Id, string Email, string Status, string PasswordHash)
{
    public const string Select = "SELECT id, email, status, password_hash FROM users";
}

/// <summary>A row of <c>activation_codes</c>.</summary>
public sealed record StoredCode(
    Guid Id, Guid UserId, string Code, string Reason, DateTime IssuedAt, DateTime ExpiresAt, int FailedAttempts, bool Superseded, bool Used)
{
    public const string Columns =
        "id, user_id, code, reason, issued_at, expires_at, failed_attempts, superseded_at IS NOT NULL AS superseded, used_at IS NOT NULL AS used";

    public const string Select = $"SELECT {Columns} FROM activation_codes";

    /// <summary>Neither superseded nor used: the code that activates.</summary>
    public bool Live => !Superseded && !Used;
}

/// <summary>A row of <c>outbox_messages</c>, with the payload fields the tests look at.</summary>
public sealed record StoredOutboxMessage(
    Guid Id, string MessageType, string Payload, DateTime CreatedAt, int Attempts, string? LastError, DateTime? DispatchedAt, string? TraceParent)
{
    public const string Select =
        "SELECT id, message_type, payload::text AS payload, created_at, attempts, last_error, dispatched_at, trace_parent FROM outbox_messages";

    /// <summary><c>reason</c> of an ActivationCodeReissued; null for other events.</summary>
    public string? Reason => PayloadString("reason");

    public string? ActivationCode => PayloadString("activationCode");

    /// <summary>The code the email carries: <c>activationCode</c>, or <c>confirmationCode</c> of an EmailChangeRequested.</summary>
    public string? Code => ActivationCode ?? PayloadString("confirmationCode");

    /// <summary>The trace id of the request that wrote the row.</summary>
    public string? TraceId => TraceParent?.Split('-') is [_, var traceId, _, _] ? traceId : null;

    private string? PayloadString(string name)
    {
        using var document = JsonDocument.Parse(Payload);
        return document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}

/// <summary>A row of <c>outbox_messages</c> as parking sees it.</summary>
public sealed record StoredOutboxParking(Guid Id, string MessageType, int Attempts, string? LastError, DateTime? DispatchedAt, DateTime? ParkedAt, string? ParkedReason)
{
    public const string Select = "SELECT id, message_type, attempts, last_error, dispatched_at, parked_at, parked_reason FROM outbox_messages";
}

/// <summary>Row updates of one table as PostgreSQL's statistics count them: all, and those that added no index entry.</summary>
public sealed record TableUpdates(long Updated, long HeapOnly);

public sealed record OutboxState(long Rows, long Dispatched, long FailedAndWaiting, long FailedAttempts);

/// <summary>The scripts a service embeds, and how often its journal recorded each.</summary>
public sealed record MigrationJournal(IReadOnlyList<string> Scripts, IReadOnlyDictionary<string, int> Applied);

public sealed record PartialRecords(long UsersWithoutCode, long CodesWithoutOutboxRow);

/// <summary>A row lock held by an open transaction; disposing commits it, which lets the waiting statements go.</summary>
internal sealed class RowLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await transaction.CommitAsync();
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
