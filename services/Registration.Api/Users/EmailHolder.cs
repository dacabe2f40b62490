using Dapper;
using Npgsql;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

/// <summary>
/// The account that currently holds an email address (by its key, <see cref="EmailAddress.KeyOf"/>), if any, and
/// the no-squatting rule: only a pending account whose latest code is dead may be taken over by someone else.
/// Used by registration, by an email change of a pending account and by the confirmation of an active
/// account's change. A pending change (<c>users.pending_email</c>) holds nothing.
/// </summary>
public sealed record EmailHolder(Guid Id, string Status, DateTime? LatestCodeExpiresAt)
{
    private const string FindSql = """
        SELECT u.id, u.status,
               (SELECT c.expires_at FROM activation_codes c
                WHERE c.user_id = u.id ORDER BY c.issued_at DESC LIMIT 1) AS latest_code_expires_at
        FROM users u
        WHERE u.email_key = @Key
        """;

    private const string LockSql = "SELECT id, status FROM users WHERE email_key = @Key FOR UPDATE";

    // A statement of its own, AFTER the lock: its snapshot is taken once the lock is held, so it sees a code that
    // a concurrent resend committed while this transaction waited for the row (issue 12 item 1). Read within the
    // locking statement, the code would come from that statement's older snapshot: PostgreSQL re-checks a locked
    // row that changed, but not a subquery on another table.
    private const string LatestCodeSql = """
        SELECT expires_at FROM activation_codes WHERE user_id = @Id ORDER BY issued_at DESC LIMIT 1
        """;

    public bool CanBeReplaced(DateTimeOffset now) =>
        Status == UserStatus.Pending
        && (LatestCodeExpiresAt is null || now >= LatestCodeExpiresAt.Value.AsUtc());

    /// <summary>A lock-free look, to answer 409 before spending a bcrypt run or taking any lock.</summary>
    public static Task<EmailHolder?> FindAsync(
        NpgsqlConnection connection, string addressKey, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null) =>
        connection.QuerySingleOrDefaultAsync<EmailHolder>(
            new CommandDefinition(FindSql, new { Key = addressKey }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Inside a transaction: locks the account holding the address, if any, and reads its latest code after the
    /// lock (see <see cref="LatestCodeSql"/>). The caller decides with <see cref="TakeOverAsync"/>.
    /// </summary>
    public static async Task<EmailHolder?> LockAsync(NpgsqlTransaction transaction, string addressKey, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var locked = await connection.QuerySingleOrDefaultAsync<LockedHolder>(
            new CommandDefinition(LockSql, new { Key = addressKey }, transaction, cancellationToken: cancellationToken));
        if (locked is null)
        {
            return null;
        }

        var latestCodeExpiresAt = await connection.QuerySingleOrDefaultAsync<DateTime?>(
            new CommandDefinition(LatestCodeSql, new { locked.Id }, transaction, cancellationToken: cancellationToken));
        return new EmailHolder(locked.Id, locked.Status, latestCodeExpiresAt);
    }

    /// <summary>
    /// True when the address a locked <paramref name="holder"/> (or nobody) holds is free for
    /// <paramref name="claimant"/>, after deleting a replaceable holder with its unpublished messages
    /// (<see cref="AccountDeletion"/>).
    /// </summary>
    public static async Task<(bool Free, Guid? ReplacedUserId)> TakeOverAsync(
        NpgsqlTransaction transaction, EmailHolder? holder, Guid? claimant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (holder is null || holder.Id == claimant)
        {
            return (true, null);
        }

        if (!holder.CanBeReplaced(now))
        {
            return (false, null);
        }

        await AccountDeletion.DeleteLockedAsync(transaction, holder.Id, cancellationToken);
        return (true, holder.Id);
    }

    /// <summary>
    /// Inside a transaction: <see cref="LockAsync"/> then <see cref="TakeOverAsync"/>. The holder row is locked, so
    /// two claimants cannot both replace it; a claimant that writes the address concurrently into a free one
    /// still meets the unique index (and writes it only under the address lock, see <c>AddressLimits</c>).
    /// </summary>
    public static async Task<(bool Free, Guid? ReplacedUserId)> ClaimAsync(
        NpgsqlTransaction transaction, string addressKey, Guid? claimant, DateTimeOffset now, CancellationToken cancellationToken) =>
        await TakeOverAsync(transaction, await LockAsync(transaction, addressKey, cancellationToken), claimant, now, cancellationToken);

    private sealed record LockedHolder(Guid Id, string Status);
}
