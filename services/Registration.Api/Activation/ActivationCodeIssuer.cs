using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Infrastructure;
using Registration.Api.Outbox;
using Registration.Api.Users;
using Registration.Contracts.V1;

namespace Registration.Api.Activation;

public sealed record IssuedCode(string Code, DateTimeOffset ExpiresAt);

/// <summary>
/// What issuing a code came to: the code, or nothing because the address it would go to already had its
/// daily number of codes (<see cref="RetryAfter"/>: until one leaves the window).
/// </summary>
public sealed record IssueOutcome(IssuedCode? Code, TimeSpan? RetryAfter)
{
    public static IssueOutcome Limited(TimeSpan retryAfter) => new(null, retryAfter);
}

/// <summary>What a code is for: the two never coexist for one user (<c>activation_codes.purpose</c>).</summary>
public static class CodePurposes
{
    /// <summary>Activates a pending account; emailed to its address.</summary>
    public const string Activation = "activation";

    /// <summary>Confirms an active account's new address; emailed to that new address.</summary>
    public const string EmailChange = "email-change";
}

/// <summary>
/// Issues a user's next code inside the caller's transaction (which holds the user's row lock): the per-address
/// daily cap of codes is checked and counted (<see cref="AddressLimits"/>), the previous code superseded, the
/// new one stored with the address it goes to, the user's <c>last_code_issued_at</c> moved (the resend
/// cooldown and the retention purge read it), and the event that gets it emailed added to the outbox
/// (<see cref="OutboxWriter"/>). Registration, resend, both kinds of email change and redelivery all come
/// through here, so these rules hold for every code. The routes that email a code answer its two limits with
/// <see cref="RefuseWithinCooldown"/> and <see cref="AddressLimited"/>.
/// </summary>
public sealed class ActivationCodeIssuer(IOptions<ActivationOptions> options, AddressLimits limits, RegistrationMetrics metrics)
{
    private const string Registration = "registration";

    /// <summary>The reason of a code a PATCH on an active account sends to the new address.</summary>
    public const string EmailChangeReason = "email-change";

    private const string StoreSql = """
        UPDATE activation_codes SET superseded_at = @Now
        WHERE user_id = @UserId AND superseded_at IS NULL AND used_at IS NULL;
        INSERT INTO activation_codes (id, user_id, code, purpose, reason, sent_to, issued_at, expires_at)
        VALUES (@Id, @UserId, @Code, @Purpose, @Reason, @SentTo, @Now, @ExpiresAt);
        UPDATE users SET last_code_issued_at = @Now WHERE id = @UserId;
        """;

    private const string SupersedeSql = """
        UPDATE activation_codes SET superseded_at = @Now
        WHERE user_id = @UserId AND superseded_at IS NULL AND used_at IS NULL
        """;

    /// <summary>A new user's first code, announced as <see cref="UserRegistered"/>.</summary>
    public Task<IssueOutcome> IssueFirstAsync(
        NpgsqlTransaction transaction, Guid userId, string email, DateTimeOffset now, CancellationToken cancellationToken) =>
        IssueAsync(transaction, userId, CodePurposes.Activation, Registration, email, now,
            issued => new UserRegistered(userId, email, issued.Code, issued.ExpiresAt, now), cancellationToken);

    /// <summary>An activation code replacing the current one, announced as <see cref="ActivationCodeReissued"/> with <paramref name="reason"/>.</summary>
    /// <param name="reason">One of <see cref="ReissueReasons"/>.</param>
    public Task<IssueOutcome> ReissueAsync(
        NpgsqlTransaction transaction, Guid userId, string email, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        IssueAsync(transaction, userId, CodePurposes.Activation, reason, email, now,
            issued => new ActivationCodeReissued(userId, email, issued.Code, issued.ExpiresAt, reason, now), cancellationToken);

    /// <summary>
    /// A code confirming an active account's change to <paramref name="newEmail"/>, emailed there, announced as
    /// <see cref="EmailChangeRequested"/>.
    /// </summary>
    /// <param name="reason"><see cref="EmailChangeReason"/>, or <see cref="ReissueReasons.Redelivery"/> for a fresh one after expiry.</param>
    public Task<IssueOutcome> IssueEmailChangeAsync(
        NpgsqlTransaction transaction, Guid userId, string newEmail, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        IssueAsync(transaction, userId, CodePurposes.EmailChange, reason, newEmail, now,
            issued => new EmailChangeRequested(userId, newEmail, issued.Code, issued.ExpiresAt, now), cancellationToken);

    /// <summary>
    /// The resend cooldown: at most one code per <c>Activation:ResendCooldown</c>, counted from the user's last code
    /// (registration included). While it runs, the contract's 429 resend-too-soon with Retry-After; null once it has passed.
    /// </summary>
    public ProblemHttpResult? RefuseWithinCooldown(DateTime lastCodeIssuedAt, DateTimeOffset now, HttpContext context)
    {
        var wait = lastCodeIssuedAt.AsUtc() + options.Value.ResendCooldown - now;
        return wait > TimeSpan.Zero ? Problems.ResendTooSoon(wait).WithRetryAfter(context, wait) : null;
    }

    /// <summary>
    /// The contract's answer when the address a code would go to had its daily number of codes (an
    /// <see cref="IssueOutcome.RetryAfter"/>, or <see cref="AddressLimits.PeekAsync"/> before any work): 429
    /// too-many-requests with Retry-After, counted on the address-limit metric.
    /// </summary>
    public ProblemHttpResult AddressLimited(HttpContext context, TimeSpan retryAfter)
    {
        metrics.AddressLimitReached(AddressLimits.CodeSent);
        return Problems.TooManyCodesForAddress().WithRetryAfter(context, retryAfter);
    }

    /// <summary>The current code stops working (a cancelled email change); nothing is emailed.</summary>
    public static Task SupersedeAsync(NpgsqlTransaction transaction, Guid userId, DateTimeOffset now, CancellationToken cancellationToken) =>
        transaction.Connection!.ExecuteAsync(new CommandDefinition(
            SupersedeSql, new { UserId = userId, Now = now }, transaction, cancellationToken: cancellationToken));

    private async Task<IssueOutcome> IssueAsync<T>(
        NpgsqlTransaction transaction,
        Guid userId,
        string purpose,
        string reason,
        string sentTo,
        DateTimeOffset now,
        Func<IssuedCode, T> announcement,
        CancellationToken cancellationToken)
        where T : class
    {
        var addressKey = EmailAddress.KeyOf(sentTo)
            ?? throw new ArgumentException("A code is only ever sent to a valid address.", nameof(sentTo));
        if (await limits.LockAndCheckAsync(transaction, addressKey, AddressLimits.CodeSent, now, cancellationToken) is { } wait)
        {
            return IssueOutcome.Limited(wait);
        }

        var issued = new IssuedCode(ActivationCodeGenerator.Next(), now + options.Value.CodeLifetime);
        await transaction.Connection!.ExecuteAsync(new CommandDefinition(
            StoreSql,
            new
            {
                Id = Guid.CreateVersion7(now),
                UserId = userId,
                issued.Code,
                Purpose = purpose,
                Reason = reason,
                SentTo = sentTo,
                Now = now,
                issued.ExpiresAt,
            },
            transaction,
            cancellationToken: cancellationToken));
        await AddressLimits.RecordAsync(transaction, addressKey, AddressLimits.CodeSent, now, cancellationToken);
        await OutboxWriter.AddAsync(transaction, userId, announcement(issued), now, cancellationToken);
        return new IssueOutcome(issued, null);
    }
}
