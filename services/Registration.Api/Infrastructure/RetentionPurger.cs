using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Activation;
using Registration.Hosting;

namespace Registration.Api.Infrastructure;

/// <summary>What one purge pass did; <see cref="Ran"/> is false when another instance held the purge.</summary>
public sealed record PurgeResult(bool Ran, int Users, int UserBatches, int OutboxRows, int AddressEvents, int SignInRows);

/// <summary>
/// Periodic clean-up, one instance at a time (a session advisory lock; an instance that does not get it skips
/// the pass), in bounded batches (<c>Activation:PurgeBatchSize</c> rows per statement, each its own
/// transaction, so no pass holds many locks for long however large the backlog):
/// <list type="bullet">
/// <item>pending accounts whose LAST code was issued more than <c>Activation:PendingRetention</c> ago, with their
/// codes and unpublished outbox rows, so an address nobody confirmed is not held forever. By the last code, not
/// by creation: an account a resend just gave a live code is not deleted. Rows are locked with SKIP LOCKED and,
/// since issuing a code updates the user row, a row a resend changed meanwhile is re-checked, not deleted;</item>
/// <item>dispatched outbox rows (they contain codes) after <c>Outbox:DispatchedRetention</c>;</item>
/// <item>per-address events older than their 24 h window, and sign-in failures nobody counts any more.</item>
/// </list>
/// </summary>
public sealed partial class RetentionPurger(
    NpgsqlDataSource dataSource,
    TimeProvider timeProvider,
    IOptions<ActivationOptions> activation,
    IOptions<OutboxOptions> outbox,
    ILogger<RetentionPurger> logger) : PeriodicBackgroundService(timeProvider, logger)
{
    /// <summary>The session advisory lock of the purge, in the key space of the API's locks ("REGISTPU").</summary>
    public const long LockKey = 0x5245_4749_5354_5055;

    private const string TryLockSql = "SELECT pg_try_advisory_lock(@Key)";

    private const string UnlockSql = "SELECT pg_advisory_unlock(@Key)";

    private const string PurgePendingSql = """
        WITH doomed AS (
            SELECT id FROM users
            WHERE status = 'pending' AND last_code_issued_at < @Cutoff
            ORDER BY last_code_issued_at
            LIMIT @BatchSize
            FOR UPDATE SKIP LOCKED),
        unpublished AS (
            DELETE FROM outbox_messages WHERE id IN (
                SELECT o.id FROM outbox_messages o JOIN doomed d ON o.user_id = d.id
                WHERE o.dispatched_at IS NULL
                FOR UPDATE OF o SKIP LOCKED))
        DELETE FROM users u USING doomed d WHERE u.id = d.id
        """;

    private const string PurgeDispatchedSql = """
        DELETE FROM outbox_messages WHERE id IN (
            SELECT id FROM outbox_messages
            WHERE dispatched_at IS NOT NULL AND dispatched_at < now() - @Retention
            LIMIT @BatchSize)
        """;

    private const string PurgeAddressEventsSql = """
        DELETE FROM address_activity WHERE ctid IN (
            SELECT ctid FROM address_activity WHERE occurred_at <= @WindowStart LIMIT @BatchSize)
        """;

    private const string PurgeSignInFailuresSql = """
        DELETE FROM sign_in_failures WHERE (email_key, client_key) IN (
            SELECT email_key, client_key FROM sign_in_failures
            WHERE last_failure_at <= @ForgetBefore AND (blocked_until IS NULL OR blocked_until <= @Now)
            LIMIT @BatchSize)
        """;

    private const string PurgeSignInWindowsSql = """
        DELETE FROM sign_in_failures_per_email WHERE email_key IN (
            SELECT email_key FROM sign_in_failures_per_email WHERE window_started_at <= @WindowEnded LIMIT @BatchSize)
        """;

    protected override TimeSpan Interval => activation.Value.PurgeInterval;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => PurgeAsync(cancellationToken);

    public async Task<PurgeResult> PurgeAsync(CancellationToken cancellationToken)
    {
        // The lock lives as long as this session: if the instance dies mid-pass, PostgreSQL releases it.
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await lockConnection.ExecuteScalarAsync<bool>(new CommandDefinition(TryLockSql, new { Key = LockKey }, cancellationToken: cancellationToken)))
        {
            LogSkipped(Logger);
            return new PurgeResult(false, 0, 0, 0, 0, 0);
        }

        try
        {
            var now = Clock.GetUtcNow();
            var batchSize = activation.Value.PurgeBatchSize;
            var (users, userBatches) = await InBatchesAsync(
                PurgePendingSql, new { Cutoff = now - activation.Value.PendingRetention, BatchSize = batchSize }, cancellationToken);
            var (outboxRows, _) = await InBatchesAsync(
                PurgeDispatchedSql, new { Retention = outbox.Value.DispatchedRetention, BatchSize = batchSize }, cancellationToken);
            var (addressEvents, _) = await InBatchesAsync(
                PurgeAddressEventsSql, new { WindowStart = now - AddressLimits.Window, BatchSize = batchSize }, cancellationToken);
            var (failures, _) = await InBatchesAsync(
                PurgeSignInFailuresSql, new { ForgetBefore = now - SignInThrottle.FailureMemory, Now = now, BatchSize = batchSize }, cancellationToken);
            var (windows, _) = await InBatchesAsync(
                PurgeSignInWindowsSql, new { WindowEnded = now - SignInThrottle.AccountWindow, BatchSize = batchSize }, cancellationToken);

            var result = new PurgeResult(true, users, userBatches, outboxRows, addressEvents, failures + windows);
            if (users + outboxRows + addressEvents + failures + windows > 0)
            {
                LogPurged(Logger, users, userBatches, outboxRows, addressEvents, failures + windows);
            }

            return result;
        }
        finally
        {
            await lockConnection.ExecuteAsync(new CommandDefinition(UnlockSql, new { Key = LockKey }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>Runs a bounded delete until it finds nothing more; returns the rows deleted and the batches that deleted some.</summary>
    private async Task<(int Rows, int Batches)> InBatchesAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        var (rows, batches) = (0, 0);
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var deleted = await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
            if (deleted == 0)
            {
                return (rows, batches);
            }

            rows += deleted;
            batches++;
        }
    }

    [LoggerMessage(EventId = 1410, EventName = "RetentionPurged", Level = LogLevel.Information, Message = "Purged {Users} pending users with no code for the retention period (in {Batches} batches), {OutboxRows} dispatched outbox rows, {AddressEvents} per-address events and {SignInRows} sign-in failure rows")]
    private static partial void LogPurged(ILogger logger, int users, int batches, int outboxRows, int addressEvents, int signInRows);

    [LoggerMessage(EventId = 1411, EventName = "RetentionPurgeSkipped", Level = LogLevel.Debug, Message = "Retention purge skipped: another instance is running it")]
    private static partial void LogSkipped(ILogger logger);
}
