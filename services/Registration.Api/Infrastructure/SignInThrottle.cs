using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Registration.Api.Infrastructure;

/// <summary>The throttling state of one sign-in and the account it names, read in one statement before bcrypt.</summary>
/// <param name="RetryAfter">Set when the sign-in is refused (429) without checking the password.</param>
/// <param name="Scope"><c>client</c> (this email from this client) or <c>email</c> (this email from every client).</param>
/// <param name="HasFailures">Failures from this client are on record: a success must reset them.</param>
public sealed record SignInLookup(TimeSpan? RetryAfter, string? Scope, Guid? UserId, string? PasswordHash, bool HasFailures);

/// <summary>
/// Sign-in throttling (design, "Abuse limits"), counted in PostgreSQL so every API instance shares it, keyed
/// by the address the client SENT (its <c>EmailAddress.KeyOf</c>), whether or not an account has it: an
/// unknown email is counted, blocked and answered exactly like a known one. Per (email, client): after
/// <c>Security:MaxFailedSignIns</c> consecutive failures the client is refused for that email for 1 minute,
/// doubling with each further failure up to 15 minutes; a success resets it; failures older than a day are
/// forgotten. Per email, from all clients: past <c>Security:MaxFailedSignInsPerAccountPerHour</c> failures in
/// the hour that began with the first of them, every client is refused until that hour ends.
/// Both paths of a failed sign-in, known or unknown email, run the same statements: <see cref="LookUpAsync"/>
/// before bcrypt, <see cref="RecordFailureAsync"/> after it. A success resets the count
/// (<see cref="RecordSuccessAsync"/>) only when there is one, so most sign-ins cost one statement.
/// </summary>
public sealed class SignInThrottle(NpgsqlDataSource dataSource, TimeProvider clock, IOptions<SecurityOptions> options)
{
    public static readonly TimeSpan FirstBlock = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan LongestBlock = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan AccountWindow = TimeSpan.FromHours(1);

    /// <summary>Consecutive failures this old no longer count: a forgotten password is not an attack a day later.</summary>
    public static readonly TimeSpan FailureMemory = TimeSpan.FromDays(1);

    // One row whether or not the account exists (LEFT JOINs), so both cases cost the same round trip.
    private const string LookUpSql = """
        SELECT f.consecutive_failures AS client_failures, f.blocked_until AS client_blocked_until,
          (SELECT window_started_at + @AccountWindow FROM sign_in_failures_per_email
           WHERE email_key = @EmailKey AND window_started_at > @Now - @AccountWindow AND failures >= @MaxPerAccount) AS email_blocked_until,
          u.id AS user_id, u.password_hash
        FROM (VALUES (1)) AS one (x)
        LEFT JOIN sign_in_failures f ON f.email_key = @EmailKey AND f.client_key = @ClientKey
        LEFT JOIN users u ON u.email_key = @EmailKey
        """;

    // Atomic under concurrency (the increments are computed from the row's committed value by ON CONFLICT).
    // The block of the n-th consecutive failure (n >= the limit) is FirstBlock * 2^(n - limit), at most LongestBlock.
    private const string RecordFailureSql = """
        INSERT INTO sign_in_failures AS f (email_key, client_key, consecutive_failures, blocked_until, last_failure_at)
        VALUES (@EmailKey, @ClientKey, 1, CASE WHEN 1 >= @MaxConsecutive THEN @Now + @FirstBlock END, @Now)
        ON CONFLICT (email_key, client_key) DO UPDATE SET
          consecutive_failures = CASE WHEN f.last_failure_at <= @Now - @FailureMemory THEN 1 ELSE f.consecutive_failures + 1 END,
          blocked_until = CASE
            WHEN (CASE WHEN f.last_failure_at <= @Now - @FailureMemory THEN 1 ELSE f.consecutive_failures + 1 END) >= @MaxConsecutive
            THEN @Now + least(@FirstBlock * power(2::float8, least(
                   (CASE WHEN f.last_failure_at <= @Now - @FailureMemory THEN 1 ELSE f.consecutive_failures + 1 END) - @MaxConsecutive, 16)),
                 @LongestBlock)
            END,
          last_failure_at = @Now;
        INSERT INTO sign_in_failures_per_email AS e (email_key, window_started_at, failures)
        VALUES (@EmailKey, @Now, 1)
        ON CONFLICT (email_key) DO UPDATE SET
          window_started_at = CASE WHEN e.window_started_at <= @Now - @AccountWindow THEN @Now ELSE e.window_started_at END,
          failures = CASE WHEN e.window_started_at <= @Now - @AccountWindow THEN 1 ELSE e.failures + 1 END;
        """;

    private const string RecordSuccessSql = "DELETE FROM sign_in_failures WHERE email_key = @EmailKey AND client_key = @ClientKey";

    /// <summary>Whether this sign-in is refused, and the stored credentials of the account the email names, if any.</summary>
    public async Task<SignInLookup> LookUpAsync(string emailKey, string clientKey, CancellationToken cancellationToken)
    {
        var now = clock.GetDatabaseNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<LookupRow>(new CommandDefinition(
            LookUpSql,
            new
            {
                EmailKey = emailKey,
                ClientKey = clientKey,
                Now = now,
                AccountWindow,
                MaxPerAccount = options.Value.MaxFailedSignInsPerAccountPerHour,
            },
            cancellationToken: cancellationToken));

        var clientWait = row.ClientBlockedUntil is { } client ? client.AsUtc() - now : TimeSpan.Zero;
        var emailWait = row.EmailBlockedUntil is { } email ? email.AsUtc() - now : TimeSpan.Zero;
        var wait = clientWait > emailWait ? clientWait : emailWait;
        return new SignInLookup(
            wait > TimeSpan.Zero ? wait : null,
            wait <= TimeSpan.Zero ? null : clientWait >= emailWait ? "client" : "email",
            row.UserId,
            row.PasswordHash,
            row.ClientFailures is > 0);
    }

    public async Task RecordFailureAsync(string emailKey, string clientKey, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            RecordFailureSql,
            new
            {
                EmailKey = emailKey,
                ClientKey = clientKey,
                Now = clock.GetDatabaseNow(),
                MaxConsecutive = options.Value.MaxFailedSignIns,
                FirstBlock,
                LongestBlock,
                FailureMemory,
                AccountWindow,
            },
            cancellationToken: cancellationToken));
    }

    public async Task RecordSuccessAsync(string emailKey, string clientKey, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            RecordSuccessSql, new { EmailKey = emailKey, ClientKey = clientKey }, cancellationToken: cancellationToken));
    }

    private sealed record LookupRow(int? ClientFailures, DateTime? ClientBlockedUntil, DateTime? EmailBlockedUntil, Guid? UserId, string? PasswordHash);
}
