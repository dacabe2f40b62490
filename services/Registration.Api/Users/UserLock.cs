using Dapper;
using Npgsql;

namespace Registration.Api.Users;

/// <summary>
/// A new transaction that has locked one user's row (<c>SELECT columns FROM users WHERE id = @Id FOR UPDATE</c>):
/// the opening of every change to an account (activation, resend, PATCH, the email confirmation, deletion and the
/// redelivery of an expired code), so concurrent requests on one account are applied one at a time. The user's row
/// is the first lock such a transaction takes: the lock order of docs/reliability.md ("One lock order per address").
/// Disposing it rolls back what was not committed and returns the connection to the pool.
/// </summary>
public sealed class UserLock<TRow> : IAsyncDisposable
{
    internal UserLock(NpgsqlConnection connection) => Connection = connection;

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; internal set; } = null!;

    /// <summary>The locked row, with the columns asked for; null when there is no such user (never created, or deleted since).</summary>
    public TRow? Row { get; internal set; }

    public async ValueTask DisposeAsync()
    {
        if (Transaction is not null)
        {
            await Transaction.DisposeAsync();
        }

        await Connection.DisposeAsync();
    }
}

/// <inheritdoc cref="UserLock{TRow}"/>
public static class UserLock
{
    /// <summary>
    /// Opens a connection, begins a transaction and locks the row of user <paramref name="userId"/>, reading its
    /// <paramref name="columns"/> (a constant of the caller, e.g. <c>"email, status"</c>) into a <typeparamref name="TRow"/>.
    /// </summary>
    public static async Task<UserLock<TRow>> BeginAsync<TRow>(
        NpgsqlDataSource dataSource, Guid userId, string columns, CancellationToken cancellationToken)
    {
        var locked = new UserLock<TRow>(await dataSource.OpenConnectionAsync(cancellationToken));
        try
        {
            locked.Transaction = await locked.Connection.BeginTransactionAsync(cancellationToken);
            locked.Row = await locked.Connection.QuerySingleOrDefaultAsync<TRow>(new CommandDefinition(
                $"SELECT {columns} FROM users WHERE id = @Id FOR UPDATE", new { Id = userId }, locked.Transaction, cancellationToken: cancellationToken));
            return locked;
        }
        catch
        {
            await locked.DisposeAsync();
            throw;
        }
    }
}
