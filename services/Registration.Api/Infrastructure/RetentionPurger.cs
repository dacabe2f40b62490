using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Registration.Api.Infrastructure;

/// <summary>
/// Periodic clean-up: pending accounts never activated within <c>Activation:PendingRetention</c> are deleted
/// (their codes go with them), so an address nobody confirmed is not held forever; dispatched outbox rows,
/// which contain activation codes, are deleted after <c>Outbox:DispatchedRetention</c>.
/// Safe on several instances at once: the deletes are idempotent.
/// </summary>
public sealed partial class RetentionPurger(
    NpgsqlDataSource dataSource,
    TimeProvider timeProvider,
    IOptions<ActivationOptions> activation,
    IOptions<OutboxOptions> outbox,
    ILogger<RetentionPurger> logger) : BackgroundService
{
    private const string PurgePendingSql = """
        DELETE FROM users WHERE status = 'pending' AND NOT ever_activated AND created_at < @Cutoff
        """;

    private const string PurgeDispatchedSql = """
        DELETE FROM outbox_messages WHERE dispatched_at IS NOT NULL AND dispatched_at < now() - @Retention
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(activation.Value.PurgeInterval, timeProvider);
        do
        {
            try
            {
                await PurgeAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                LogPurgeFailed(logger, exception);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    public async Task<(int Users, int OutboxRows)> PurgeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var cutoff = timeProvider.GetUtcNow() - activation.Value.PendingRetention;
        var users = await connection.ExecuteAsync(new CommandDefinition(
            PurgePendingSql, new { Cutoff = cutoff }, cancellationToken: cancellationToken));
        var rows = await connection.ExecuteAsync(new CommandDefinition(
            PurgeDispatchedSql, new { Retention = outbox.Value.DispatchedRetention }, cancellationToken: cancellationToken));
        if (users > 0 || rows > 0)
        {
            LogPurged(logger, users, rows);
        }

        return (users, rows);
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Purged {Users} never-activated pending users and {OutboxRows} dispatched outbox rows")]
    private static partial void LogPurged(ILogger logger, int users, int outboxRows);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Retention purge failed; it runs again at the next interval")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
