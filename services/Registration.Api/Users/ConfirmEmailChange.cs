using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Registration.Api.Activation;
using Registration.Api.Infrastructure;
using Registration.Api.Outbox;
using Registration.Contracts.V1;

namespace Registration.Api.Users;

/// <summary>
/// POST /v1/users/me/email-confirmation: an active account swaps its sign-in address for the pending one
/// (<see cref="UpdateCurrentUser"/>) with the code emailed there. Basic auth with the CURRENT address (401), then
/// in order: body shape (400), nothing pending (409 no-pending-change), the code (<see cref="CodeVerifier"/>:
/// 429 locked — 5 wrong tries on this code, or the new address's daily wrong codes, with Retry-After —, 410
/// expired, 422 wrong), and, under lock, the new address: taken over from a replaceable pending holder as
/// registration does, else 409 email-taken. Then the address changes, the code is used and the OLD address gets
/// a notice (<c>EmailChanged</c>), all in one transaction.
/// </summary>
public static class ConfirmEmailChange
{
    private const string LockedColumns = "email, pending_email";

    private const string ConfirmSql = $"""
        UPDATE activation_codes SET used_at = @Now WHERE id = @CodeId;
        UPDATE users SET email = pending_email, email_key = @EmailKey, pending_email = NULL WHERE id = @UserId
        RETURNING {UserRow.Columns};
        """;

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        HttpRequest request, ClaimsPrincipal principal, [AsParameters] UserServices services, CancellationToken cancellationToken)
    {
        var (code, problem) = await CodeVerifier.ReadCodeAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var userId = principal.GetUserId();
        await using var locked = await UserLock.BeginAsync<LockedUser>(services.DataSource, userId, LockedColumns, cancellationToken);
        if (locked.Row is not { } user)
        {
            return Problems.AccountGone();
        }

        if (user.PendingEmail is not { } newEmail)
        {
            return Problems.NoPendingChange();
        }

        // Rows first (this account's, then the new address's holder, kept undecided until the code is known to
        // be right), then the address lock the code check takes, then the key's index entry: the order every
        // writer of an address keeps (AddressLimits), so a racing registration waits instead of deadlocking.
        var now = services.Clock.GetDatabaseNow();
        var newKey = EmailAddress.KeyOf(newEmail)!;
        var holder = await EmailHolder.LockAsync(locked.Transaction, newKey, cancellationToken);
        var check = await services.Verifier.CheckAsync(locked.Transaction, userId, CodePurposes.EmailChange, newEmail, code!, now, cancellationToken);
        if (await services.Verifier.RefuseAsync(check, locked.Transaction, request.HttpContext, cancellationToken) is { } refusal)
        {
            Log.EmailChangeRejected(services.Logger, userId, check.Outcome);
            return refusal;
        }

        var (free, replacedUserId) = await EmailHolder.TakeOverAsync(locked.Transaction, holder, claimant: userId, now, cancellationToken);
        if (!free)
        {
            Log.EmailChangeRejected(services.Logger, userId, "email taken");
            return Problems.EmailTaken();
        }

        UserRow changed;
        try
        {
            changed = await locked.Connection.QuerySingleAsync<UserRow>(new CommandDefinition(
                ConfirmSql, new { check.CodeId, UserId = userId, EmailKey = newKey, Now = now }, locked.Transaction, cancellationToken: cancellationToken));
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A registration of the new address committed while this request was under way.
            Log.EmailChangeRejected(services.Logger, userId, "email taken");
            return Problems.EmailTaken();
        }

        await OutboxWriter.AddAsync(locked.Transaction, userId, new EmailChanged(userId, user.Email, newEmail, now), now, cancellationToken);
        await locked.Transaction.CommitAsync(cancellationToken);
        Log.EmailChangeConfirmed(services.Logger, userId, replacedUserId);
        return TypedResults.Ok(changed.ToResponse());
    }

    private sealed record LockedUser(string Email, string? PendingEmail);
}
