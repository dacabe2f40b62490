using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Hosting;

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
    ILogger<RetentionPurger> logger) : PeriodicBackgroundService(timeProvider, logger)
{
    private const string PurgePendingSql = """
        DELETE FROM users WHERE status = 'pending' AND NOT ever_activated AND created_at < @Cutoff
        """;

    private const string PurgeDispatchedSql = """
        DELETE FROM outbox_messages WHERE dispatched_at IS NOT NULL AND dispatched_at < now() - @Retention
        """;

    protected override TimeSpan Interval => activation.Value.PurgeInterval;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => PurgeAsync(cancellationToken);

    public async Task<(int Users, int OutboxRows)> PurgeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var cutoff = Clock.GetUtcNow() - activation.Value.PendingRetention;
        var users = await connection.ExecuteAsync(new CommandDefinition(
            PurgePendingSql, new { Cutoff = cutoff }, cancellationToken: cancellationToken));
        var rows = await connection.ExecuteAsync(new CommandDefinition(
            PurgeDispatchedSql, new { Retention = outbox.Value.DispatchedRetention }, cancellationToken: cancellationToken));
        if (users > 0 || rows > 0)
        {
            LogPurged(Logger, users, rows);
        }

        return (users, rows);
    }

    [LoggerMessage(EventId = 1410, EventName = "RetentionPurged", Level = LogLevel.Information, Message = "Purged {Users} never-activated pending users and {OutboxRows} dispatched outbox rows")]
    private static partial void LogPurged(ILogger logger, int users, int outboxRows);

}
