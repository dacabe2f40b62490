using System.Globalization;
using System.Reflection;
using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Registration.Hosting;

/// <summary>
/// One service's schema: the numbered <c>Database/Migrations/NNNN_*.sql</c> files embedded in
/// <paramref name="Assembly"/>, applied by DbUp in name order and recorded in
/// <c><paramref name="Schema"/>.<paramref name="JournalTable"/></c>. Each service has its own journal, its
/// own folder and its own <paramref name="LockKey"/>.
/// </summary>
public sealed record SchemaMigrations(Assembly Assembly, string Schema, string JournalTable, long LockKey)
{
    /// <summary>Embedded resource names of the scripts contain this (the folder, as MSBuild names it).</summary>
    public const string ResourceFolder = ".Database.Migrations.";

    /// <summary>The scripts' resource names in the order they apply.</summary>
    public IReadOnlyList<string> ScriptNames =>
        [.. Assembly.GetManifestResourceNames().Where(IsScript).Order(StringComparer.Ordinal)];

    internal static bool IsScript(string resourceName) =>
        resourceName.Contains(ResourceFolder, StringComparison.Ordinal) && resourceName.EndsWith(".sql", StringComparison.Ordinal);
}

public static partial class SchemaMigrator
{
    /// <summary>
    /// Applies <paramref name="migrations"/> before anything else of the service starts (registered as the
    /// first hosted service: before the bus, the dispatchers and, in the API, before Kestrel listens).
    /// </summary>
    public static IHostApplicationBuilder AddSchemaMigrations(this IHostApplicationBuilder builder, SchemaMigrations migrations)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHostedService(services => new MigrationService(
            services.GetRequiredService<IConfiguration>().GetRequiredPostgres(),
            migrations,
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SchemaMigrator).FullName!)));
        return builder;
    }

    /// <summary>
    /// Applies the pending scripts. A session advisory lock serialises instances that start at the same
    /// time: the second waits, then finds nothing left to do. Each script runs in a transaction of its own
    /// (PostgreSQL DDL is transactional: a failed script leaves nothing behind).
    /// </summary>
    public static async Task MigrateAsync(string connectionString, SchemaMigrations migrations, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        await using var lockConnection = new NpgsqlConnection(connectionString);
        await lockConnection.OpenAsync(cancellationToken);
        await EnsureUtf8Async(lockConnection, cancellationToken);
        await ExecuteAsync(lockConnection, "SELECT pg_advisory_lock($1)", migrations.LockKey, cancellationToken);
        try
        {
            // Checked rather than CREATE SCHEMA IF NOT EXISTS, which demands CREATE on the database even when
            // the schema is there: a DBA may create the schema and grant it to the service.
            if (!await SchemaExistsAsync(lockConnection, migrations.Schema, cancellationToken))
            {
                await ExecuteAsync(lockConnection, $"CREATE SCHEMA \"{migrations.Schema}\"", null, cancellationToken);
            }

            var result = DeployChanges.To
                .PostgresqlDatabase(connectionString, migrations.Schema)
                .WithScriptsEmbeddedInAssembly(migrations.Assembly, SchemaMigrations.IsScript)
                .WithTransactionPerScript()
                .JournalToPostgresqlTable(migrations.Schema, migrations.JournalTable)
                .LogTo(new MigrationLog(logger))
                .Build()
                .PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException(
                    $"Database migration failed at script '{result.ErrorScript?.Name}': {result.Error?.Message}", result.Error);
            }

            if (logger.IsEnabled(LogLevel.Information))
            {
                var applied = result.Scripts.Select(script => script.Name[(script.Name.IndexOf(SchemaMigrations.ResourceFolder, StringComparison.Ordinal) + SchemaMigrations.ResourceFolder.Length)..]).ToList();
                var names = applied.Count == 0 ? "none" : string.Join(", ", applied);
                LogMigrated(logger, migrations.Schema, applied.Count, names);
            }
        }
        finally
        {
            await ExecuteAsync(lockConnection, "SELECT pg_advisory_unlock($1)", migrations.LockKey, CancellationToken.None);
        }
    }

    /// <summary>
    /// Refuses a database that cannot store every address: on SQL_ASCII (what initdb makes on a machine with
    /// no locale) or a single-byte encoding, each non-ASCII email would fail at its INSERT, answered 500.
    /// </summary>
    private static async Task EnsureUtf8Async(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT current_database(), pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (database, encoding) = (reader.GetString(0), reader.GetString(1));
        if (encoding != "UTF8")
        {
            throw new InvalidOperationException(
                $"The database '{database}' is encoded {encoding}, not UTF8: non-ASCII email addresses cannot be stored. "
                + $"Create it with CREATE DATABASE \"{database}\" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0.");
        }
    }

    private static async Task<bool> SchemaExistsAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regnamespace($1) IS NOT NULL", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = $"\"{schema}\"" });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, object? parameter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (parameter is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed class MigrationService(string connectionString, SchemaMigrations migrations, ILogger logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => MigrateAsync(connectionString, migrations, logger, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>
    /// DbUp's progress lines at Debug (six or more a start, "checking whether journal table exists"...: the one
    /// line that matters is <see cref="LogMigrated"/>), its failures as Error; its trace and debug chatter dropped.
    /// </summary>
    private sealed class MigrationLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }

        public void LogDebug(string format, params object[] args) { }

        public void LogInformation(string format, params object[] args) => Write(LogLevel.Debug, format, args);

        public void LogWarning(string format, params object[] args) => Write(LogLevel.Warning, format, args);

        public void LogError(string format, params object[] args) => Write(LogLevel.Error, format, args);

        public void LogError(Exception ex, string format, params object[] args) => Write(LogLevel.Error, format, args);

        private void Write(LogLevel level, string format, object[] args)
        {
            if (logger.IsEnabled(level))
            {
                LogProgress(logger, level, args.Length == 0 ? format : string.Format(CultureInfo.InvariantCulture, format, args));
            }
        }
    }

    [LoggerMessage(EventId = 9002, EventName = "SchemaMigrated", Level = LogLevel.Information, Message = "Schema {Schema} is up to date; {Count} script(s) applied now: {Scripts}")]
    private static partial void LogMigrated(ILogger logger, string schema, int count, string scripts);

    [LoggerMessage(EventId = 9000, EventName = "Migration", Message = "Migrations: {Message}")]
    private static partial void LogProgress(ILogger logger, LogLevel level, string message);
}
