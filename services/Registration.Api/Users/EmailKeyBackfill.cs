using Dapper;
using Npgsql;

namespace Registration.Api.Users;

/// <summary>
/// Computes, in C#, the address key (<see cref="EmailAddress.KeyOf"/>) of the users migration 0002 could not key
/// in SQL (an address with a non-ASCII character, given the placeholder <c>rekey:{id}</c>): SQL's lower() depends
/// on the database's collation, so only C# may define the key. Runs at start-up after the migrations and before
/// the API serves a request (hosted services start in order); each instance takes rows with SKIP LOCKED, so
/// several starting at once share the work. Once done it reads an empty partial index and costs nothing.
/// Two old accounts whose addresses are one address under the new rules (composed and decomposed accents,
/// case the old index did not fold) cannot both have the key: the first keeps it, the other keeps a
/// <c>duplicate:{id}</c> key and is reported in the log for an operator.
/// </summary>
public sealed class EmailKeyBackfill(NpgsqlDataSource dataSource, ILoggerFactory loggerFactory) : IHostedService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.Category);

    private const string NextSql = """
        SELECT id, email FROM users WHERE email_key LIKE 'rekey:%' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
        """;

    private const string SetKeySql = "UPDATE users SET email_key = @Key WHERE id = @Id";

    private const string HolderSql = "SELECT id FROM users WHERE email_key = @Key";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var computed = 0;
        while (await KeyNextAsync(cancellationToken))
        {
            computed++;
        }

        if (computed > 0)
        {
            Log.EmailKeysComputed(_logger, computed);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Keys one user; false when none is left.</summary>
    private async Task<bool> KeyNextAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var user = await connection.QuerySingleOrDefaultAsync<Unkeyed>(new CommandDefinition(NextSql, transaction: transaction, cancellationToken: cancellationToken));
        if (user is null)
        {
            return false;
        }

        var key = EmailAddress.KeyOf(user.Email) ?? $"duplicate:{user.Id}";
        var holder = await connection.QuerySingleOrDefaultAsync<Guid?>(
            new CommandDefinition(HolderSql, new { Key = key }, transaction, cancellationToken: cancellationToken));
        if (holder is { } other && other != user.Id)
        {
            key = $"duplicate:{user.Id}";
            Log.EmailKeyCollision(_logger, user.Id, other, key);
        }

        try
        {
            await connection.ExecuteAsync(new CommandDefinition(SetKeySql, new { Key = key, user.Id }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another instance gave the same key to another row meanwhile: the next pass finds it and reports.
        }

        return true;
    }

    private sealed record Unkeyed(Guid Id, string Email);
}
