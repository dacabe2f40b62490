using Dapper;
using Npgsql;

namespace Notification.Worker.Infrastructure;

/// <summary>
/// Applies the worker's own schema (<c>notification</c>, in the same database as the API but
/// sharing no table with it) from the numbered <c>Migrations/*.sql</c> embedded in this
/// assembly, each once, recorded in <c>notification.schema_migrations</c>.
/// </summary>
/// <remarks>
/// Safe when several instances start at once: everything runs in one transaction behind a
/// transaction-scoped advisory lock, so one instance migrates while the others wait and then
/// find nothing left to do. PostgreSQL DDL is transactional: a failed script leaves nothing.
/// </remarks>
public sealed partial class NotificationSchema(NpgsqlDataSource dataSource, ILogger<NotificationSchema> logger)
{
    // Any constant unique to this schema; the API's migrations use their own lock.
    private const long MigrationLockKey = 0x6E6F_7469_6669_6361; // "notifica"
    private const string ResourcePrefix = "Migrations/";

    private const string LockSql = "SELECT pg_advisory_xact_lock(@LockKey)";

    // Checked rather than CREATE SCHEMA IF NOT EXISTS, which demands CREATE on the database
    // even when the schema is there: a DBA may create the schema and grant it to the worker.
    private const string SchemaExistsSql = "SELECT to_regnamespace('notification') IS NOT NULL";

    private const string CreateSchemaSql = "CREATE SCHEMA notification";

    private const string JournalSql = """
        CREATE TABLE IF NOT EXISTS notification.schema_migrations (
            name       text        PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        """;

    private const string AppliedSql = "SELECT name FROM notification.schema_migrations";

    private const string RecordSql = "INSERT INTO notification.schema_migrations (name) VALUES (@Name)";

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await connection.ExecuteAsync(new CommandDefinition(LockSql, new { LockKey = MigrationLockKey }, transaction, cancellationToken: cancellationToken));
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(SchemaExistsSql, transaction: transaction, cancellationToken: cancellationToken)))
        {
            await connection.ExecuteAsync(new CommandDefinition(CreateSchemaSql, transaction: transaction, cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition(JournalSql, transaction: transaction, cancellationToken: cancellationToken));
        var applied = (await connection.QueryAsync<string>(new CommandDefinition(AppliedSql, transaction: transaction, cancellationToken: cancellationToken)))
            .ToHashSet(StringComparer.Ordinal);

        foreach (var (name, sql) in Scripts())
        {
            if (applied.Contains(name))
            {
                continue;
            }

            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(RecordSql, new { Name = name }, transaction, cancellationToken: cancellationToken));
            LogApplied(logger, name);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The embedded scripts in name order (their numbers).</summary>
    internal static IEnumerable<(string Name, string Sql)> Scripts()
    {
        var assembly = typeof(NotificationSchema).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames()
                     .Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"Embedded migration {resource} is missing.");
            using var reader = new StreamReader(stream);
            yield return (resource[ResourcePrefix.Length..], reader.ReadToEnd());
        }
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Applied migration {Migration} to schema notification")]
    private static partial void LogApplied(ILogger logger, string migration);
}

/// <summary>Migrates before the bus starts: registered ahead of MassTransit's hosted service.</summary>
internal sealed class NotificationSchemaMigration(NotificationSchema schema) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => schema.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
