using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Notification.Worker.Infrastructure;
using Npgsql;

namespace Notification.Worker.Tests;

public sealed class NotificationSchemaTests(TestEnvironment environment) : IClassFixture<TestEnvironment>
{
    [Fact]
    public async Task Migrate_ByInstancesStartingTogether_AppliesEachScriptOnce()
    {
        var instances = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(environment.ConnectionString)).ToList();
        try
        {
            await Task.WhenAll(instances.Select(source =>
                new NotificationSchema(source, NullLogger<NotificationSchema>.Instance).MigrateAsync(CancellationToken.None)));
            await new NotificationSchema(instances[0], NullLogger<NotificationSchema>.Instance).MigrateAsync(CancellationToken.None);

            await using var connection = await instances[0].OpenConnectionAsync();
            var applied = await connection.QueryAsync<string>("SELECT name FROM notification.schema_migrations");
            applied.Should().Equal(NotificationSchema.Scripts().Select(s => s.Name));
            (await connection.ExecuteScalarAsync<bool>("SELECT to_regclass('notification.processed_messages') IS NOT NULL")).Should().BeTrue();
        }
        finally
        {
            foreach (var source in instances)
            {
                await source.DisposeAsync();
            }
        }
    }
}
