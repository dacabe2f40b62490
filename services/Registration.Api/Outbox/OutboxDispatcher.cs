using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Infrastructure;

namespace Registration.Api.Outbox;

/// <summary>
/// Publishes outbox rows to RabbitMQ and marks them dispatched only after the broker confirmed.
/// Rows are claimed with <c>FOR UPDATE SKIP LOCKED</c>, so several API instances share the work without
/// publishing a row twice. It wakes on the NOTIFY the insert trigger sends, and polls as a fallback.
/// A failed publish is retried with a growing delay; the registration that wrote it never waits for this, and
/// neither does an account deletion (it skips the rows a publish holds; a claimed row whose user is gone is
/// deleted instead of published).
/// <para>
/// Poison rows are parked, not retried: a payload that cannot be read as its type fails the same way every
/// time, so it is parked at once (<c>parked_at</c>, <c>parked_reason</c>, the <c>registration.outbox.parked</c>
/// counter). A row of a type this instance does not know is left alone, since another version of the API
/// (during a rolling deployment) may know it; once no instance has published it for
/// <see cref="UnknownTypeGrace"/>, it is parked too. Operators list and requeue parked rows with the
/// <c>outbox-parked</c> command (<see cref="ParkedOutboxCommand"/>); they are deleted after
/// <c>Outbox:ParkedRetention</c>.
/// </para>
/// Dispatch times come from the database clock (<c>now()</c>), shared by every instance; the injected
/// TimeProvider is for the business rules.
/// </summary>
public sealed partial class OutboxDispatcher(
    NpgsqlDataSource dataSource,
    IBus bus,
    IOptions<OutboxOptions> options,
    RegistrationMetrics metrics,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    public const string NotificationChannel = "outbox_messages";

    /// <summary>How long a row of a type no running instance knows waits before it is parked (a rolling deployment takes less).</summary>
    public static readonly TimeSpan UnknownTypeGrace = TimeSpan.FromMinutes(10);

    /// <summary>The <c>reason</c> label of <c>registration.outbox.parked</c>.</summary>
    public static class ParkReasons
    {
        public const string UnknownType = "unknown-type";
        public const string UnreadablePayload = "unreadable-payload";
    }

    internal static readonly ActivitySource ActivitySource = new("Registration.Api.Outbox");

    // A claimed row whose user is gone is deleted, not published: an account deletion skips the rows a publish
    // holds (it does not wait for the broker), and a row whose publish then failed is left to this statement.
    // Dropped rows come back too (orphaned), so that a batch of nothing else still commits their deletion.
    private const string ClaimSql = """
        WITH claimed AS (
            SELECT o.id, o.message_type, o.payload, o.trace_parent, o.attempts, o.created_at,
                   o.user_id IS NOT NULL AND NOT EXISTS (SELECT FROM users u WHERE u.id = o.user_id) AS orphaned
            FROM outbox_messages o
            WHERE o.dispatched_at IS NULL AND o.parked_at IS NULL AND o.message_type = ANY(@KnownTypes)
              AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= now())
            ORDER BY o.created_at
            LIMIT @BatchSize
            FOR UPDATE OF o SKIP LOCKED),
        dropped AS (
            DELETE FROM outbox_messages o USING claimed c WHERE o.id = c.id AND c.orphaned)
        SELECT id, message_type, payload::text AS payload, trace_parent, attempts, orphaned
        FROM claimed
        ORDER BY created_at
        """;

    private const string MarkDispatchedSql = """
        UPDATE outbox_messages SET dispatched_at = now(), last_error = NULL WHERE id = ANY(@Ids)
        """;

    private const string MarkFailedSql = """
        UPDATE outbox_messages
        SET attempts = attempts + 1, last_error = @Error, next_attempt_at = now() + @RetryDelay
        WHERE id = @Id
        """;

    private const string MarkParkedSql = """
        UPDATE outbox_messages
        SET attempts = attempts + 1, last_error = @Reason, parked_at = now(), parked_reason = @Reason
        WHERE id = @Id
        """;

    private const string ParkUnknownTypesSql = """
        UPDATE outbox_messages
        SET parked_at = now(), parked_reason = format('No instance published message type %L within %s minutes: unknown type.', message_type, @GraceMinutes)
        WHERE dispatched_at IS NULL AND parked_at IS NULL AND message_type <> ALL(@KnownTypes) AND created_at < now() - @Grace
        RETURNING id, message_type
        """;

    private const string PurgeParkedSql = "DELETE FROM outbox_messages WHERE parked_at < now() - @Retention";

    private const string BacklogSql = """
        SELECT count(*) AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age_seconds
        FROM outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NULL
        """;

    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromSeconds(1);

    /// <summary>Payloads are read strictly: a missing or null member of a contract is unreadable, not a message with holes.</summary>
    private static readonly JsonSerializerOptions ReadOptions = new(OutboxMessageTypes.SerializerOptions)
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    private long _lastHousekeeping;

    // Capacity one: any number of wake-ups while a batch runs collapse into one more pass.
    private readonly Channel<bool> _wakeUp = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listener = ListenAsync(stoppingToken);
        var settings = options.Value;

        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await DispatchBatchAsync(settings, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The database is unreachable: nothing can be claimed; try again after the poll interval.
                LogDispatchFailed(logger, exception);
            }

            if (claimed < settings.BatchSize)
            {
                await HousekeepAsync(settings, stoppingToken);
                await WaitForWorkAsync(settings.PollInterval, stoppingToken);
            }
        }

        await listener;
    }

    /// <summary>One pass: claim a batch, publish it concurrently, record each outcome. Returns rows claimed.</summary>
    internal async Task<int> DispatchBatchAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = (await connection.QueryAsync<OutboxRow>(new CommandDefinition(
            ClaimSql, new { settings.BatchSize, KnownTypes = OutboxMessageTypes.Names }, transaction, cancellationToken: cancellationToken))).AsList();
        var rows = claimed.FindAll(row => !row.Orphaned);
        if (rows.Count == 0)
        {
            if (claimed.Count > 0)
            {
                // Only rows of deleted accounts, which the claim deleted: without this commit the disposal would
                // roll their deletion back, and they would come back at every claim, never published, never gone.
                await transaction.CommitAsync(CancellationToken.None);
            }

            return claimed.Count;
        }

        var outcomes = await Task.WhenAll(rows.Select(row => PublishAsync(row, settings.PublishTimeout, cancellationToken)));

        var dispatched = rows.Where((_, index) => outcomes[index] is null).Select(row => row.Id).ToArray();
        var retried = 0;
        if (dispatched.Length > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                MarkDispatchedSql, new { Ids = dispatched }, transaction, cancellationToken: cancellationToken));
        }

        for (var index = 0; index < rows.Count; index++)
        {
            var row = rows[index];
            switch (outcomes[index])
            {
                case { ParkReason: { } reason } poison:
                    await connection.ExecuteAsync(new CommandDefinition(
                        MarkParkedSql, new { row.Id, Reason = Truncate(poison.Error) }, transaction, cancellationToken: cancellationToken));
                    metrics.OutboxParked(reason);
                    LogParked(logger, row.Id, row.MessageType, poison.Error);
                    break;
                case { } failure:
                    retried++;
                    await connection.ExecuteAsync(new CommandDefinition(
                        MarkFailedSql,
                        new { row.Id, Error = Truncate(failure.Error), RetryDelay = RetryDelay(row.Attempts, settings.MaxRetryDelay) },
                        transaction,
                        cancellationToken: cancellationToken));
                    break;
            }
        }

        // Commit with no cancellation: the broker already has these messages; losing the mark would only
        // cause a duplicate publish, which consumers tolerate by MessageId, but there is no reason to.
        await transaction.CommitAsync(CancellationToken.None);
        metrics.OutboxPublished(dispatched.Length);
        metrics.OutboxPublishFailed(retried);

        if (retried > 0)
        {
            LogPublishFailures(logger, retried, rows.Count);
            // Every row failed: the broker is likely down. Report "nothing claimed" so the loop waits.
            return retried == rows.Count ? 0 : claimed.Count;
        }

        return claimed.Count;
    }

    /// <summary>
    /// When the loop goes idle, at most once a second: parks rows of a type no instance published within
    /// <see cref="UnknownTypeGrace"/>, deletes parked rows past <c>Outbox:ParkedRetention</c>, and updates the
    /// outbox lag gauges. At a steady trickle of registrations every NOTIFY makes the loop idle again, and
    /// queries per registration would only refresh a gauge that is scraped every few seconds.
    /// </summary>
    private async Task HousekeepAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        if (Stopwatch.GetElapsedTime(_lastHousekeeping) < HousekeepingInterval)
        {
            return;
        }

        _lastHousekeeping = Stopwatch.GetTimestamp();
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var unknown = await connection.QueryAsync<(Guid Id, string MessageType)>(new CommandDefinition(
                ParkUnknownTypesSql,
                new { KnownTypes = OutboxMessageTypes.Names, Grace = UnknownTypeGrace, GraceMinutes = (int)UnknownTypeGrace.TotalMinutes },
                cancellationToken: cancellationToken));
            foreach (var (id, messageType) in unknown)
            {
                metrics.OutboxParked(ParkReasons.UnknownType);
                LogParked(logger, id, messageType, "no instance knows its type");
            }

            var purged = await connection.ExecuteAsync(new CommandDefinition(
                PurgeParkedSql, new { Retention = settings.ParkedRetention }, cancellationToken: cancellationToken));
            if (purged > 0)
            {
                LogParkedPurged(logger, purged, settings.ParkedRetention);
            }

            var backlog = await connection.QuerySingleAsync<Backlog>(new CommandDefinition(BacklogSql, cancellationToken: cancellationToken));
            metrics.OutboxBacklog(backlog.Pending, TimeSpan.FromSeconds(backlog.OldestAgeSeconds));
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            // Best effort, and again in a second; the dispatch loop reports database trouble itself.
        }
    }

    /// <summary>
    /// Publishes one row; returns null on a confirmed publish, a failure to retry, or a poison row to park (a
    /// payload that cannot be read fails the same way every time).
    /// </summary>
    private async Task<Failure?> PublishAsync(OutboxRow row, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Claimed rows are of known types only; a row can still be unreadable as its type.
        var messageType = OutboxMessageTypes.Resolve(row.MessageType)!;
        object message;
        try
        {
            message = JsonSerializer.Deserialize(row.Payload, messageType, ReadOptions)
                ?? throw new JsonException("The payload is null.");
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException)
        {
            // The serializer's messages name the member and position, never the values (codes, addresses).
            return new Failure($"The payload cannot be read as {row.MessageType}: {exception.Message}", ParkReasons.UnreadablePayload);
        }

        // Continue the trace of the request that wrote the row.
        ActivityContext.TryParse(row.TraceParent, null, out var parent);
        using var activity = ActivitySource.StartActivity("outbox publish", ActivityKind.Producer, parent);
        activity?.SetTag("messaging.message.id", row.Id);
        activity?.SetTag("messaging.message.type", row.MessageType);

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await bus.Publish(message, messageType, context =>
            {
                context.MessageId = row.Id;
                // Unroutable (no queue bound yet) comes back as a failure instead of vanishing.
                context.Mandatory = true;
            }, timeoutSource.Token);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "timeout");
            return new Failure($"Publish not confirmed within {timeout.TotalSeconds:0.###} s.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            return new Failure($"{exception.GetType().Name}: {exception.Message}");
        }
    }

    /// <summary>100 ms, 200 ms, 400 ms ... capped: quick after a blip, gentle during an outage.</summary>
    internal static TimeSpan RetryDelay(int attempts, TimeSpan max)
    {
        var delay = TimeSpan.FromMilliseconds(100 * Math.Pow(2, Math.Min(attempts, 20)));
        return delay < max ? delay : max;
    }

    private static string Truncate(string error) => error.Length <= 500 ? error : error[..500];

    private async Task WaitForWorkAsync(TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(pollInterval);
        try
        {
            await _wakeUp.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Poll interval elapsed (or stopping): look for work anyway.
        }
    }

    /// <summary>Keeps a LISTEN connection open, reconnecting after failures, and turns NOTIFYs into wake-ups.</summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, _) => _wakeUp.Writer.TryWrite(true);
                await using (var listen = new NpgsqlCommand($"LISTEN {NotificationChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Rows may have been written while we were not listening.
                _wakeUp.Writer.TryWrite(true);
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException or System.IO.IOException)
            {
                LogListenFailed(logger, exception);
                try
                {
                    await Task.Delay(options.Value.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private sealed record Backlog(long Pending, double OldestAgeSeconds);

    /// <summary>A publish that did not happen: retried later, or parked when <see cref="ParkReason"/> is set.</summary>
    private sealed record Failure(string Error, string? ParkReason = null);

    private sealed record OutboxRow(Guid Id, string MessageType, string Payload, string? TraceParent, int Attempts, bool Orphaned);

    [LoggerMessage(EventId = 1200, EventName = "OutboxDispatchFailed", Level = LogLevel.Warning, Message = "Outbox dispatch pass failed")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1201, EventName = "OutboxPublishFailures", Level = LogLevel.Warning, Message = "{Failed} of {Claimed} outbox messages were not confirmed by the broker; they will be retried")]
    private static partial void LogPublishFailures(ILogger logger, int failed, int claimed);

    [LoggerMessage(EventId = 1202, EventName = "OutboxListenFailed", Level = LogLevel.Warning, Message = "Outbox LISTEN connection lost; polling until it is back")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);

    // The reason names the type and what could not be read, never the payload (it holds an address and a code).
    [LoggerMessage(EventId = 1203, EventName = "OutboxMessageParked", Level = LogLevel.Error, Message = "Outbox message {MessageId} ({MessageType}) parked, it will not be published: {Reason}. List parked messages with `outbox-parked list`")]
    private static partial void LogParked(ILogger logger, Guid messageId, string messageType, string reason);

    [LoggerMessage(EventId = 1204, EventName = "OutboxParkedPurged", Level = LogLevel.Information, Message = "Deleted {Count} parked outbox messages parked more than {Retention} ago")]
    private static partial void LogParkedPurged(ILogger logger, int count, TimeSpan retention);
}
