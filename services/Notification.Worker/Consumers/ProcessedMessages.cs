using Dapper;
using Npgsql;

namespace Notification.Worker.Consumers;

/// <summary>
/// The MessageIds this worker has handled (<c>notification.processed_messages</c>), so that a
/// redelivered message is not emailed twice. A row is written only after the provider
/// accepted the email (or the expired-code event was published).
/// </summary>
public sealed class ProcessedMessages(NpgsqlDataSource dataSource)
{
    public const string Sent = "sent";
    public const string Expired = "expired";

    private const string ExistsSql = """
        SELECT EXISTS (SELECT 1 FROM notification.processed_messages WHERE message_id = @MessageId)
        """;

    // ON CONFLICT: a redelivery racing the first delivery records once; the second row adds nothing.
    private const string RecordSql = """
        INSERT INTO notification.processed_messages (message_id, user_id, outcome, processed_at)
        VALUES (@MessageId, @UserId, @Outcome, @ProcessedAt)
        ON CONFLICT (message_id) DO NOTHING
        """;

    private const string PurgeSql = """
        DELETE FROM notification.processed_messages WHERE processed_at < @Cutoff
        """;

    public async Task<bool> ContainsAsync(Guid messageId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(
            new CommandDefinition(ExistsSql, new { MessageId = messageId }, cancellationToken: cancellationToken));
    }

    public async Task RecordAsync(Guid messageId, Guid userId, string outcome, DateTimeOffset processedAt, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            RecordSql,
            new { MessageId = messageId, UserId = userId, Outcome = outcome, ProcessedAt = processedAt },
            cancellationToken: cancellationToken));
    }

    public async Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(PurgeSql, new { Cutoff = cutoff }, cancellationToken: cancellationToken));
    }
}
