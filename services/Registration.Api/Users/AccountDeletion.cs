using Dapper;
using Npgsql;

namespace Registration.Api.Users;

/// <summary>
/// Deletes an account, the shared step of DELETE /v1/users/me (<see cref="DeleteCurrentUser"/>), the operators'
/// DELETE /v1/users/{id} and the replacement of a pending account by a new registration (<see cref="EmailHolder"/>):
/// the user, its codes (cascade) and its not yet published outbox messages go in one transaction, so no email is
/// sent for an account that no longer exists, and the email address is free again. The user's row is locked
/// first: a request that issues a code for this user (a resend) holds the same lock, so its outbox row is either
/// committed before the delete, and deleted with the rest, or never written. A row the outbox dispatcher is
/// publishing at that moment is not waited for (see <see cref="DeleteSql"/>).
/// </summary>
public static class AccountDeletion
{
    private const string LockedColumns = "id";

    // Unpublished only, and never waiting for the dispatcher: a row it holds is being published, for as long as
    // the broker takes (up to Outbox:PublishTimeout while the broker is away, and the whole of the bus's first
    // connection attempt), which is no time for a request to wait under the user's lock (it waited, and a
    // DELETE racing a resend answered 503 at the command timeout, both requests when they timed out together).
    // Such a row is skipped here: if its publish succeeds, that email was on its way anyway; if not, the
    // dispatcher finds the row's user gone and drops it instead of retrying it (OutboxDispatcher's claim).
    private const string DeleteSql = """
        DELETE FROM outbox_messages WHERE id IN (
            SELECT id FROM outbox_messages WHERE user_id = @Id AND dispatched_at IS NULL FOR UPDATE SKIP LOCKED);
        DELETE FROM users WHERE id = @Id;
        """;

    /// <summary>False when there was no such user.</summary>
    public static async Task<bool> DeleteAsync(NpgsqlDataSource dataSource, Guid userId, CancellationToken cancellationToken)
    {
        await using var locked = await UserLock.BeginAsync<Guid?>(dataSource, userId, LockedColumns, cancellationToken);
        if (locked.Row is null)
        {
            return false;
        }

        await DeleteLockedAsync(locked.Transaction, userId, cancellationToken);
        await locked.Transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Deletes a user whose row <paramref name="transaction"/> has locked, with its unpublished messages.</summary>
    public static Task DeleteLockedAsync(NpgsqlTransaction transaction, Guid userId, CancellationToken cancellationToken) =>
        transaction.Connection!.ExecuteAsync(new CommandDefinition(DeleteSql, new { Id = userId }, transaction, cancellationToken: cancellationToken));
}
