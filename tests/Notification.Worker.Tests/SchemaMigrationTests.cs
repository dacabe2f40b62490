using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Notification.Worker.Infrastructure;
using Npgsql;
using Registration.Hosting;

namespace Notification.Worker.Tests;

/// <summary>The worker's schema through the shared DbUp runner (<see cref="SchemaMigrator"/>), journaled apart from the API's.</summary>
public sealed class SchemaMigrationTests(TestEnvironment environment) : IClassFixture<TestEnvironment>
{
    private readonly TestEnvironment _environment = environment;

    [Fact]
    public async Task Migrate_ByInstancesStartingTogether_AppliesEachScriptOnce()
    {
        await DropSchemaAsync();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => MigrateAsync()));
        await MigrateAsync();

        await using var connection = new NpgsqlConnection(_environment.ConnectionString);
        var applied = await connection.QueryAsync<string>("SELECT scriptname FROM notification.schema_versions ORDER BY schemaversionsid");
        applied.Should().Equal(NotificationWorkerExtensions.Migrations.ScriptNames);
        (await connection.ExecuteScalarAsync<bool>("SELECT to_regclass('notification.processed_messages') IS NOT NULL")).Should().BeTrue();
    }

    [Fact]
    public async Task Migrate_ADatabaseOfTheHandWrittenRunner_KeepsItsRowsAndRetiresItsJournal()
    {
        // As the worker's own runner left it before DbUp: the table, its journal, a remembered message.
        await DropSchemaAsync();
        var messageId = Guid.NewGuid();
        await using (var connection = new NpgsqlConnection(_environment.ConnectionString))
        {
            await connection.ExecuteAsync("""
                CREATE SCHEMA notification;
                CREATE TABLE notification.schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO notification.schema_migrations (name) VALUES ('0001_processed_messages.sql');
                CREATE TABLE notification.processed_messages (
                    message_id uuid PRIMARY KEY, user_id uuid NOT NULL,
                    outcome text NOT NULL CHECK (outcome IN ('sent', 'expired')), processed_at timestamptz NOT NULL);
                CREATE INDEX processed_messages_processed_at_idx ON notification.processed_messages (processed_at);
                """);
            await connection.ExecuteAsync(
                "INSERT INTO notification.processed_messages VALUES (@messageId, @userId, 'sent', now())",
                new { messageId, userId = Guid.NewGuid() });
        }

        await MigrateAsync();

        await using var check = new NpgsqlConnection(_environment.ConnectionString);
        (await check.ExecuteScalarAsync<bool>("SELECT to_regclass('notification.schema_migrations') IS NULL")).Should().BeTrue();
        (await check.ExecuteScalarAsync<Guid>("SELECT message_id FROM notification.processed_messages")).Should().Be(messageId);
    }

    private Task MigrateAsync() => SchemaMigrator.MigrateAsync(
        _environment.ConnectionString, NotificationWorkerExtensions.Migrations, NullLogger.Instance, CancellationToken.None);

    private async Task DropSchemaAsync()
    {
        await using var connection = new NpgsqlConnection(_environment.ConnectionString);
        await connection.ExecuteAsync("DROP SCHEMA IF EXISTS notification CASCADE");
    }
}
