using Dapper;
using Npgsql;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

/// <summary>
/// The account that currently holds an email address, if any, and the no-squatting rule: only a
/// never-activated pending account whose latest code is dead may be taken over by someone else.
/// Used by registration and by an email change.
/// </summary>
public sealed record EmailHolder(Guid Id, string Status, bool EverActivated, DateTime? LatestCodeExpiresAt)
{
    private const string FindSql = """
        SELECT u.id, u.status, u.ever_activated,
               (SELECT c.expires_at FROM activation_codes c
                WHERE c.user_id = u.id ORDER BY c.issued_at DESC LIMIT 1) AS latest_code_expires_at
        FROM users u
        WHERE lower(u.email) = lower(@Email)
        """;

    private const string LockSql = FindSql + " FOR UPDATE OF u";

    private const string DeleteSql = "DELETE FROM users WHERE id = @Id";

    public bool CanBeReplaced(DateTimeOffset now) =>
        Status == UserStatus.Pending
        && !EverActivated
        && (LatestCodeExpiresAt is null || now >= LatestCodeExpiresAt.Value.AsUtc());

    /// <summary>A lock-free look, to answer 409 before spending a bcrypt run.</summary>
    public static Task<EmailHolder?> FindAsync(NpgsqlConnection connection, string email, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<EmailHolder>(
            new CommandDefinition(FindSql, new { Email = email }, cancellationToken: cancellationToken));

    /// <summary>
    /// Inside a transaction: true when <paramref name="email"/> is free for <paramref name="claimant"/>, after
    /// deleting a replaceable holder. The holder row is locked, so two claimants cannot both replace it;
    /// a claimant that inserts concurrently into a free address still meets the unique index.
    /// </summary>
    public static async Task<(bool Free, Guid? ReplacedUserId)> ClaimAsync(
        NpgsqlTransaction transaction, string email, Guid? claimant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var holder = await connection.QuerySingleOrDefaultAsync<EmailHolder>(
            new CommandDefinition(LockSql, new { Email = email }, transaction, cancellationToken: cancellationToken));
        if (holder is null || holder.Id == claimant)
        {
            return (true, null);
        }

        if (!holder.CanBeReplaced(now))
        {
            return (false, null);
        }

        await connection.ExecuteAsync(new CommandDefinition(DeleteSql, new { holder.Id }, transaction, cancellationToken: cancellationToken));
        return (true, holder.Id);
    }
}
