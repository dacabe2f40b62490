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
/// A failed row is retried with a growing delay; the registration that wrote it never waits for this.
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

    internal static readonly ActivitySource ActivitySource = new("Registration.Api.Outbox");

    private const string ClaimSql = """
        SELECT id, message_type, payload::text AS payload, trace_parent, attempts
        FROM outbox_messages
        WHERE dispatched_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now())
        ORDER BY created_at
        LIMIT @BatchSize
        FOR UPDATE SKIP LOCKED
        """;

    private const string MarkDispatchedSql = """
        UPDATE outbox_messages SET dispatched_at = now(), last_error = NULL WHERE id = ANY(@Ids)
        """;

    private const string MarkFailedSql = """
        UPDATE outbox_messages
        SET attempts = attempts + 1, last_error = @Error, next_attempt_at = now() + @RetryDelay
        WHERE id = @Id
        """;

    private const string BacklogSql = """
        SELECT count(*) AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age_seconds
        FROM outbox_messages WHERE dispatched_at IS NULL
        """;

    private static readonly TimeSpan BacklogMeasurementInterval = TimeSpan.FromSeconds(1);

    private long _lastBacklogMeasurement;

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
                await MeasureBacklogAsync(stoppingToken);
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
        var rows = (await connection.QueryAsync<OutboxRow>(new CommandDefinition(
            ClaimSql, new { settings.BatchSize }, transaction, cancellationToken: cancellationToken))).AsList();
        if (rows.Count == 0)
        {
            return 0;
        }

        var outcomes = await Task.WhenAll(rows.Select(row => PublishAsync(row, settings.PublishTimeout, cancellationToken)));

        var dispatched = rows.Where((_, index) => outcomes[index] is null).Select(row => row.Id).ToArray();
        if (dispatched.Length > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                MarkDispatchedSql, new { Ids = dispatched }, transaction, cancellationToken: cancellationToken));
        }

        for (var index = 0; index < rows.Count; index++)
        {
            if (outcomes[index] is { } error)
            {
                var row = rows[index];
                await connection.ExecuteAsync(new CommandDefinition(
                    MarkFailedSql,
                    new { row.Id, Error = Truncate(error), RetryDelay = RetryDelay(row.Attempts, settings.MaxRetryDelay) },
                    transaction,
                    cancellationToken: cancellationToken));
            }
        }

        // Commit with no cancellation: the broker already has these messages; losing the mark would only
        // cause a duplicate publish, which consumers tolerate by MessageId, but there is no reason to.
        await transaction.CommitAsync(CancellationToken.None);
        metrics.OutboxPublished(dispatched.Length);
        metrics.OutboxPublishFailed(rows.Count - dispatched.Length);

        if (dispatched.Length < rows.Count)
        {
            LogPublishFailures(logger, rows.Count - dispatched.Length, rows.Count);
            // Every row failed: the broker is likely down. Report "nothing claimed" so the loop waits.
            return dispatched.Length == 0 ? 0 : rows.Count;
        }

        return rows.Count;
    }

    /// <summary>
    /// Updates the outbox lag gauges when the loop goes idle, at most once a second: at a steady trickle
    /// of registrations every NOTIFY makes the loop idle again, and a query per registration would only
    /// refresh a gauge that is scraped every few seconds.
    /// </summary>
    private async Task MeasureBacklogAsync(CancellationToken cancellationToken)
    {
        if (Stopwatch.GetElapsedTime(_lastBacklogMeasurement) < BacklogMeasurementInterval)
        {
            return;
        }

        _lastBacklogMeasurement = Stopwatch.GetTimestamp();
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var backlog = await connection.QuerySingleAsync<Backlog>(new CommandDefinition(BacklogSql, cancellationToken: cancellationToken));
            metrics.OutboxBacklog(backlog.Pending, TimeSpan.FromSeconds(backlog.OldestAgeSeconds));
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            // Metrics are best effort; the dispatch loop reports database trouble itself.
        }
    }

    /// <summary>Publishes one row; returns null on a confirmed publish, else a short error description.</summary>
    private async Task<string?> PublishAsync(OutboxRow row, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var messageType = OutboxMessageTypes.Resolve(row.MessageType);
        if (messageType is null)
        {
            return $"Unknown message type '{row.MessageType}'.";
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
            var message = JsonSerializer.Deserialize(row.Payload, messageType, OutboxMessageTypes.SerializerOptions)!;
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
            return $"Publish not confirmed within {timeout.TotalSeconds:0.###} s.";
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            return $"{exception.GetType().Name}: {exception.Message}";
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

    private sealed record OutboxRow(Guid Id, string MessageType, string Payload, string? TraceParent, int Attempts);

    [LoggerMessage(EventId = 1200, EventName = "OutboxDispatchFailed", Level = LogLevel.Warning, Message = "Outbox dispatch pass failed")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1201, EventName = "OutboxPublishFailures", Level = LogLevel.Warning, Message = "{Failed} of {Claimed} outbox messages were not confirmed by the broker; they will be retried")]
    private static partial void LogPublishFailures(ILogger logger, int failed, int claimed);

    [LoggerMessage(EventId = 1202, EventName = "OutboxListenFailed", Level = LogLevel.Warning, Message = "Outbox LISTEN connection lost; polling until it is back")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);
}
