using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Infrastructure;

namespace Registration.Api.Activation;

/// <summary>
/// The per-address limits (design, "Abuse limits"), counted in PostgreSQL so every API instance shares them:
/// codes emailed to an address and wrong codes tried for it, over a rolling <see cref="Window"/>, across
/// accounts and reasons (table <c>address_activity</c>, keyed by <c>EmailAddress.KeyOf</c>, not tied to any
/// account). Checks and records happen inside the caller's transaction under a transaction-scoped advisory
/// lock on the address, so two instances cannot both pass at 9 of 10.
/// <para>The same lock guards every write of the address as a key (a registration's insert, an email change),
/// and the order is always: user rows first (the caller's own, then the address's holder), then this lock,
/// then the key's unique index entry. Taken in another order, a confirmation holding the lock and waiting for
/// a registration's uncommitted index entry, while that registration waits for the lock, deadlock.</para>
/// </summary>
public sealed class AddressLimits(IOptions<ActivationOptions> options)
{
    public static readonly TimeSpan Window = TimeSpan.FromDays(1);

    private const string LockSql = "SELECT pg_advisory_xact_lock(hashtextextended('address-activity:' || @Key, 0))";

    // The limit-th most recent event still in the window, if any: while it is, the address is at its limit,
    // and it frees a place when that event leaves the window.
    private const string LimitingEventSql = """
        SELECT occurred_at FROM address_activity
        WHERE address_key = @Key AND kind = @Kind AND occurred_at > @Since
        ORDER BY occurred_at DESC
        OFFSET @Limit - 1 LIMIT 1
        """;

    private const string RecordSql = "INSERT INTO address_activity (address_key, kind, occurred_at) VALUES (@Key, @Kind, @Now)";

    /// <summary>A code emailed to the address.</summary>
    public const string CodeSent = "code-sent";

    /// <summary>A wrong code tried for the address.</summary>
    public const string WrongCode = "wrong-code";

    /// <summary>Locks the address for the rest of <paramref name="transaction"/> (again is harmless: it is re-entrant).</summary>
    public static Task LockAsync(NpgsqlTransaction transaction, string addressKey, CancellationToken cancellationToken) =>
        transaction.Connection!.ExecuteAsync(new CommandDefinition(LockSql, new { Key = addressKey }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Locks the address for the rest of <paramref name="transaction"/> and says how long until one more
    /// <paramref name="kind"/> event is allowed: null when it is allowed now.
    /// </summary>
    public async Task<TimeSpan?> LockAndCheckAsync(
        NpgsqlTransaction transaction, string addressKey, string kind, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await LockAsync(transaction, addressKey, cancellationToken);
        return await CheckAsync(transaction.Connection!, transaction, addressKey, kind, now, cancellationToken);
    }

    /// <summary>The same check without a lock or a transaction: a cheap early answer before expensive work.</summary>
    public Task<TimeSpan?> PeekAsync(NpgsqlConnection connection, string addressKey, string kind, DateTimeOffset now, CancellationToken cancellationToken) =>
        CheckAsync(connection, transaction: null, addressKey, kind, now, cancellationToken);

    /// <summary>Counts one event; call after <see cref="LockAndCheckAsync"/> allowed it, in the same transaction.</summary>
    public static Task RecordAsync(
        NpgsqlTransaction transaction, string addressKey, string kind, DateTimeOffset now, CancellationToken cancellationToken) =>
        transaction.Connection!.ExecuteAsync(new CommandDefinition(
            RecordSql, new { Key = addressKey, Kind = kind, Now = now }, transaction, cancellationToken: cancellationToken));

    private async Task<TimeSpan?> CheckAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string addressKey, string kind, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var limit = kind == CodeSent ? options.Value.MaxCodesPerAddressPerDay : options.Value.MaxFailedAttemptsPerAddressPerDay;
        var limiting = await connection.QuerySingleOrDefaultAsync<DateTime?>(new CommandDefinition(
            LimitingEventSql,
            new { Key = addressKey, Kind = kind, Since = now - Window, Limit = limit },
            transaction,
            cancellationToken: cancellationToken));
        return limiting is { } occurred ? occurred.AsUtc() + Window - now : null;
    }
}
