using DbUp;
using DbUp.Engine.Output;
using Npgsql;

namespace Registration.Api.Database;

/// <summary>
/// Applies the embedded <c>Database/Migrations/NNNN_*.sql</c> scripts in order, recording them in DbUp's
/// journal table. A PostgreSQL advisory lock serialises instances that start at the same time: the
/// second waits, then finds nothing left to do.
/// </summary>
public static partial class DatabaseMigrator
{
    // Any fixed 64-bit number, unique to this application's migrations.
    private const long MigrationLockKey = 0x5245_4749_5354_5201;

    public static async Task MigrateAsync(string connectionString, ILogger logger, CancellationToken cancellationToken)
    {
        await using var lockConnection = new NpgsqlConnection(connectionString);
        await lockConnection.OpenAsync(cancellationToken);
        await using (var acquire = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", lockConnection))
        {
            acquire.Parameters.AddWithValue("key", MigrationLockKey);
            await acquire.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, name => name.Contains(".Database.Migrations.", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .JournalToPostgresqlTable("public", "schema_versions")
                .LogTo(new MigrationLog(logger))
                .Build();

            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException($"Database migration failed at script '{result.ErrorScript?.Name}'.", result.Error);
            }
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", lockConnection);
            release.Parameters.AddWithValue("key", MigrationLockKey);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private sealed partial class MigrationLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }

        public void LogDebug(string format, params object[] args) { }

        public void LogInformation(string format, params object[] args) => Write(LogLevel.Information, format, args);

        public void LogWarning(string format, params object[] args) => Write(LogLevel.Warning, format, args);

        public void LogError(string format, params object[] args) => Write(LogLevel.Error, format, args);

        public void LogError(Exception ex, string format, params object[] args) => Write(LogLevel.Error, format, args);

        private void Write(LogLevel level, string format, object[] args)
        {
            if (logger.IsEnabled(level))
            {
                var message = Format(format, args);
                LogMessage(logger, level, message);
            }
        }

        private static string Format(string format, object[] args) =>
            args.Length == 0 ? format : string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);

        [LoggerMessage(EventId = 6000, Message = "Migrations: {Message}")]
        private static partial void LogMessage(ILogger logger, LogLevel level, string message);
    }
}
