using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Infrastructure;
using Registration.Api.Users;

namespace Registration.Api.Activation;

/// <summary>How a code sent by the user compares with their current one.</summary>
public enum CodeVerdict
{
    /// <summary>Right: <see cref="CodeCheck.CodeId"/> may be used.</summary>
    Right,

    /// <summary>Too many wrong tries, on this code or for its address (<see cref="CodeCheck.RetryAfter"/> then).</summary>
    Locked,

    /// <summary>No current code, or it expired (whatever was sent).</summary>
    Expired,

    /// <summary>Wrong; counted on the code and for the address (<see cref="CodeCheck.AttemptsLeft"/>).</summary>
    Wrong,
}

/// <summary>The body of activation and of email confirmation.</summary>
public sealed record CodeRequest(string? Code);

public sealed record CodeCheck(CodeVerdict Verdict, Guid CodeId = default, int AttemptsLeft = 0, TimeSpan? RetryAfter = null)
{
    /// <summary>For logs and the activation metric: ok, invalid, expired, locked.</summary>
    public string Outcome => Verdict switch
    {
        CodeVerdict.Right => "ok",
        CodeVerdict.Wrong => "invalid",
        CodeVerdict.Expired => "expired",
        _ => "locked",
    };

    /// <summary>
    /// The contract's answer to a refused code: 429 locked (with Retry-After when the address had its wrong codes
    /// for the day), 410 expired, 422 wrong; null for the right code.
    /// </summary>
    public ProblemHttpResult? Refusal(HttpContext context) => Verdict switch
    {
        CodeVerdict.Locked when RetryAfter is { } wait => Problems.CodeLockedForAddress().WithRetryAfter(context, wait),
        CodeVerdict.Locked => Problems.CodeLocked(),
        CodeVerdict.Expired => Problems.CodeExpired(),
        CodeVerdict.Wrong => Problems.CodeInvalid(AttemptsLeft),
        _ => null,
    };
}

/// <summary>
/// The code rules shared by activation (POST /activation, a pending account) and email confirmation (POST
/// /email-confirmation, an active account's new address), in the contract's order: locked (429: the code's
/// <c>Activation:MaxFailedAttempts</c> wrong tries, or the address's daily wrong codes, see
/// <see cref="AddressLimits"/>), expired (410), wrong (422, counted on the code and for the address), right.
/// Runs inside the caller's transaction, which holds the user's row lock; a wrong try is only counted once the
/// caller commits.
/// </summary>
public sealed class CodeVerifier(IOptions<ActivationOptions> options, AddressLimits limits, RegistrationMetrics metrics)
{
    private const string CurrentCodeSql = """
        SELECT id, code, expires_at, failed_attempts FROM activation_codes
        WHERE user_id = @UserId AND purpose = @Purpose AND superseded_at IS NULL AND used_at IS NULL
        """;

    /// <summary>The code of a <c>{"code":"0427"}</c> body: 415 or 400 as <see cref="JsonBody"/> answers, 400 unless exactly 4 digits.</summary>
    public static async Task<(string? Code, ProblemHttpResult? Problem)> ReadCodeAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<CodeRequest>(request, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        return ActivationCodeGenerator.IsWellFormed(body!.Code)
            ? (body.Code, null)
            : (null, Problems.Validation("code", "The code must be exactly 4 digits, e.g. \"0427\"."));
    }

    /// <summary>
    /// The opening of both routes that take a code (activation, email confirmation): the code of the body
    /// (<see cref="ReadCodeAsync"/>: 415/400 before any lock is taken), then a new transaction that has locked the
    /// signed-in user's row (<see cref="UserLock"/>), reading its <paramref name="columns"/>; 410 account-gone when
    /// the row is no more. On a problem nothing is left open; otherwise the caller disposes the lock.
    /// </summary>
    public static async Task<(string? Code, UserLock<TRow>? Locked, ProblemHttpResult? Problem)> ReadCodeAndLockUserAsync<TRow>(
        HttpRequest request, Guid userId, NpgsqlDataSource dataSource, string columns, CancellationToken cancellationToken)
    {
        var (code, problem) = await ReadCodeAsync(request, cancellationToken);
        if (problem is not null)
        {
            return (null, null, problem);
        }

        var locked = await UserLock.BeginAsync<TRow>(dataSource, userId, columns, cancellationToken);
        if (locked.Row is null)
        {
            await locked.DisposeAsync();
            return (null, null, Problems.AccountGone());
        }

        return (code, locked, null);
    }

    private const string CountFailureSql = """
        UPDATE activation_codes SET failed_attempts = failed_attempts + 1 WHERE id = @Id RETURNING failed_attempts
        """;

    /// <param name="purpose">One of <see cref="CodePurposes"/>.</param>
    /// <param name="sentTo">The address the current code was emailed to, whose wrong codes are counted.</param>
    public async Task<CodeCheck> CheckAsync(
        NpgsqlTransaction transaction, Guid userId, string purpose, string sentTo, string submitted, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var maxFailures = options.Value.MaxFailedAttempts;
        var current = await connection.QuerySingleOrDefaultAsync<CurrentCode>(new CommandDefinition(
            CurrentCodeSql, new { UserId = userId, Purpose = purpose }, transaction, cancellationToken: cancellationToken));
        if (current is not null && current.FailedAttempts >= maxFailures)
        {
            return new CodeCheck(CodeVerdict.Locked);
        }

        var addressKey = EmailAddress.KeyOf(sentTo)!;
        if (await limits.LockAndCheckAsync(transaction, addressKey, AddressLimits.WrongCode, now, cancellationToken) is { } wait)
        {
            return new CodeCheck(CodeVerdict.Locked, RetryAfter: wait);
        }

        if (current is null || now >= current.ExpiresAt.AsUtc())
        {
            return new CodeCheck(CodeVerdict.Expired);
        }

        if (!ActivationCodeGenerator.Matches(current.Code, submitted))
        {
            var failures = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                CountFailureSql, new { current.Id }, transaction, cancellationToken: cancellationToken));
            await AddressLimits.RecordAsync(transaction, addressKey, AddressLimits.WrongCode, now, cancellationToken);
            return new CodeCheck(CodeVerdict.Wrong, current.Id, AttemptsLeft: maxFailures - failures);
        }

        return new CodeCheck(CodeVerdict.Right, current.Id);
    }

    /// <summary>
    /// The answer to a refused code (<see cref="CodeCheck.Refusal"/>), after committing the wrong try it counted
    /// and counting a refusal by the address's limit; null for the right code, which the caller goes on with.
    /// </summary>
    public async Task<ProblemHttpResult?> RefuseAsync(
        CodeCheck check, NpgsqlTransaction transaction, HttpContext context, CancellationToken cancellationToken)
    {
        if (check.Refusal(context) is not { } refusal)
        {
            return null;
        }

        if (check.Verdict == CodeVerdict.Wrong)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        if (check.RetryAfter is not null)
        {
            metrics.AddressLimitReached(AddressLimits.WrongCode);
        }

        return refusal;
    }

    private sealed record CurrentCode(Guid Id, string Code, DateTime ExpiresAt, int FailedAttempts);
}
