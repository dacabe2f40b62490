using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;
using Registration.Api.Users;

namespace Registration.Api.Activation;

public sealed record ActivateAccountRequest(string? Code);

/// <summary>
/// POST /v1/users/me/activation. Checks, in the contract's order: body shape (400), already active (409),
/// then the code (<see cref="CodeVerifier"/>): locked (429, also when the address had its daily wrong codes,
/// with Retry-After), expired (410, whatever was sent), wrong (422). The user row is locked for the whole
/// check, so concurrent tries are counted one by one and only one can activate.
/// </summary>
public static class ActivateAccount
{
    private const string LockUserSql = $"SELECT {UserRow.Columns} FROM users WHERE id = @Id FOR UPDATE";

    private const string ActivateSql = $"""
        UPDATE activation_codes SET used_at = @Now WHERE id = @CodeId;
        UPDATE users SET status = 'active', activated_at = @Now WHERE id = @UserId
        RETURNING {UserRow.Columns};
        """;

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        HttpRequest request, ClaimsPrincipal principal, [AsParameters] ActivationServices services, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<ActivateAccountRequest>(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (!ActivationCodeGenerator.IsWellFormed(body!.Code))
        {
            return Problems.Validation("code", "The code must be exactly 4 digits, e.g. \"0427\".");
        }

        var userId = principal.GetUserId();
        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var user = await connection.QuerySingleOrDefaultAsync<UserRow>(
            new CommandDefinition(LockUserSql, new { Id = userId }, transaction, cancellationToken: cancellationToken));
        if (user is null)
        {
            return Problems.AccountGone();
        }

        if (user.Status == UserStatus.Active)
        {
            return Problems.AlreadyActive();
        }

        var now = services.Clock.GetDatabaseNow();
        var check = await services.Verifier.CheckAsync(transaction, userId, CodePurposes.Activation, user.Email, body.Code!, now, cancellationToken);
        services.Metrics.ActivationAttempt(check.Verdict switch
        {
            CodeVerdict.Right => "ok",
            CodeVerdict.Wrong => "invalid",
            CodeVerdict.Expired => "expired",
            _ => "locked",
        });
        switch (check.Verdict)
        {
            case CodeVerdict.Locked when check.RetryAfter is { } wait:
                Log.ActivationRejected(services.Logger, userId, "address locked");
                services.Metrics.AddressLimitReached(AddressLimits.WrongCode);
                return Problems.CodeLockedForAddress().WithRetryAfter(request.HttpContext, wait);
            case CodeVerdict.Locked:
                Log.ActivationRejected(services.Logger, userId, "locked");
                return Problems.CodeLocked();
            case CodeVerdict.Expired:
                Log.ActivationRejected(services.Logger, userId, "expired");
                return Problems.CodeExpired();
            case CodeVerdict.Wrong:
                await transaction.CommitAsync(cancellationToken);
                Log.ActivationRejected(services.Logger, userId, "invalid");
                return Problems.CodeInvalid(check.AttemptsLeft);
        }

        var activated = await connection.QuerySingleAsync<UserRow>(new CommandDefinition(
            ActivateSql, new { check.CodeId, UserId = userId, Now = now }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        Log.UserActivated(services.Logger, userId);
        return TypedResults.Ok(activated.ToResponse());
    }
}
