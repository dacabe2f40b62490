using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Registration.Api.Activation;
using Registration.Api.Infrastructure;
using Registration.Contracts.V1;

namespace Registration.Api.Users;

public sealed record UpdateUserRequest(string? Email, string? Password);

/// <summary>
/// PATCH /v1/users/me: a new password (at once) and/or a new email, all in one transaction, all or nothing.
/// <list type="bullet">
/// <item>An ACTIVE account keeps its verified sign-in address: the new one becomes <c>pendingEmail</c> and a
/// confirmation code is emailed to it (<c>EmailChangeRequested</c>); <see cref="ConfirmEmailChange"/> swaps the
/// address once that code comes back. A new PATCH replaces the pending change; the current address cancels it.
/// A pending change reserves nothing, but an address another account holds is 409.</item>
/// <item>A PENDING account (never activated, nothing verified to lose) takes the new address at once under the
/// no-squatting rule of registration (<see cref="EmailHolder"/>), and a new activation code goes there
/// (<c>ActivationCodeReissued</c>, reason <c>email-changed</c>).</item>
/// </list>
/// Every change that emails a code obeys the resend cooldown (429 resend-too-soon) and the address's daily
/// number of codes (429 too-many-requests), both with Retry-After (<see cref="ActivationCodeIssuer"/>).
/// </summary>
public static class UpdateCurrentUser
{
    private const string LockedColumns = "id, email, status, pending_email, last_code_issued_at";

    private const string UpdatePasswordSql = "UPDATE users SET password_hash = @PasswordHash WHERE id = @Id";

    private const string SetPendingEmailSql = "UPDATE users SET pending_email = @PendingEmail WHERE id = @Id";

    private const string ReplaceEmailSql = "UPDATE users SET email = @Email, email_key = @EmailKey WHERE id = @Id";

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        HttpRequest request, ClaimsPrincipal principal, [AsParameters] UserServices services, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<UpdateUserRequest>(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.Email is null && body.Password is null)
        {
            return Problems.Validation("body", "Provide a new email, a new password, or both.");
        }

        var errors = new Dictionary<string, string[]>();
        var email = string.Empty;
        if (body.Email is not null && EmailAddress.Validate(body.Email, out email) is { } emailError)
        {
            errors["email"] = [emailError];
        }

        if (body.Password is not null && PasswordRules.Validate(body.Password) is { } passwordError)
        {
            errors["password"] = [passwordError];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // Hash outside the transaction: no row lock is held while bcrypt runs.
        var passwordHash = body.Password is null ? null : await services.Hasher.HashAsync(body.Password, ClientAddress.KeyOf(request.HttpContext), cancellationToken);
        var userId = principal.GetUserId();
        var now = services.Clock.GetDatabaseNow();

        await using var locked = await UserLock.BeginAsync<LockedUser>(services.DataSource, userId, LockedColumns, cancellationToken);
        if (locked.Row is not { } user)
        {
            return Problems.AccountGone();
        }

        if (passwordHash is not null)
        {
            await locked.Connection.ExecuteAsync(new CommandDefinition(
                UpdatePasswordSql, new { Id = userId, PasswordHash = passwordHash }, locked.Transaction, cancellationToken: cancellationToken));
        }

        var change = EmailChange.None;
        if (body.Email is not null)
        {
            (change, problem) = await ChangeEmailAsync(request.HttpContext, locked.Transaction, user, email, now, services, cancellationToken);
            if (problem is not null)
            {
                return problem;
            }
        }

        // Locked at the start of this transaction: the row is there.
        var updated = (await UserRow.FindAsync(locked.Connection, userId, cancellationToken, locked.Transaction))!;
        await locked.Transaction.CommitAsync(cancellationToken);
        Log.UserUpdated(services.Logger, userId, change, passwordHash is not null);
        return TypedResults.Ok(updated.ToResponse());
    }

    private static async Task<(EmailChange Change, ProblemHttpResult? Problem)> ChangeEmailAsync(
        HttpContext httpContext, NpgsqlTransaction transaction, LockedUser user, string email, DateTimeOffset now, UserServices services,
        CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var key = EmailAddress.KeyOf(email)!;
        if (key == EmailAddress.KeyOf(user.Email))
        {
            // The current address: nothing to change; on an active account, a pending change is cancelled.
            if (user.PendingEmail is null)
            {
                return (EmailChange.None, null);
            }

            await ActivationCodeIssuer.SupersedeAsync(transaction, user.Id, now, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                SetPendingEmailSql, new { user.Id, PendingEmail = (string?)null }, transaction, cancellationToken: cancellationToken));
            return (EmailChange.Cancelled, null);
        }

        // Checked in the contract's order: taken (409), too soon (429 resend-too-soon), the address's cap (429).
        var holder = await EmailHolder.FindAsync(connection, key, cancellationToken, transaction);
        if (holder is not null && holder.Id != user.Id && !holder.CanBeReplaced(now))
        {
            return (EmailChange.None, Problems.EmailTaken());
        }

        if (services.Issuer.RefuseWithinCooldown(user.LastCodeIssuedAt, now, httpContext) is { } tooSoon)
        {
            return (EmailChange.None, tooSoon);
        }

        if (user.Status == UserStatus.Active)
        {
            var issued = await services.Issuer.IssueEmailChangeAsync(
                transaction, user.Id, email, ActivationCodeIssuer.EmailChangeReason, now, cancellationToken);
            if (issued.RetryAfter is { } wait)
            {
                return (EmailChange.None, services.Issuer.AddressLimited(httpContext, wait));
            }

            await connection.ExecuteAsync(new CommandDefinition(
                SetPendingEmailSql, new { user.Id, PendingEmail = email }, transaction, cancellationToken: cancellationToken));
            return (EmailChange.Requested, null);
        }

        // Rows, then the address lock, then the key's index entry: the order every writer keeps (AddressLimits).
        var (free, _) = await EmailHolder.ClaimAsync(transaction, key, claimant: user.Id, now, cancellationToken);
        if (!free)
        {
            return (EmailChange.None, Problems.EmailTaken());
        }

        await AddressLimits.LockAsync(transaction, key, cancellationToken);

        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                ReplaceEmailSql, new { user.Id, Email = email, EmailKey = key }, transaction, cancellationToken: cancellationToken));
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return (EmailChange.None, Problems.EmailTaken());
        }

        var reissued = await services.Issuer.ReissueAsync(transaction, user.Id, email, ReissueReasons.EmailChanged, now, cancellationToken);
        return reissued.RetryAfter is { } limited
            ? (EmailChange.None, services.Issuer.AddressLimited(httpContext, limited))
            : (EmailChange.Replaced, null);
    }

    private sealed record LockedUser(Guid Id, string Email, string Status, string? PendingEmail, DateTime LastCodeIssuedAt);
}

/// <summary>What a PATCH did to the email, for the log.</summary>
public enum EmailChange
{
    None,

    /// <summary>An active account's change awaits confirmation at the new address.</summary>
    Requested,

    /// <summary>An active account's pending change was cancelled.</summary>
    Cancelled,

    /// <summary>A pending account's address was replaced at once.</summary>
    Replaced,
}
