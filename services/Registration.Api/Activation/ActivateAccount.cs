using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;
using Registration.Api.Users;

namespace Registration.Api.Activation;

/// <summary>
/// POST /v1/users/me/activation. Checks, in the contract's order: body shape (400), already active (409),
/// then the code (<see cref="CodeVerifier"/>): locked (429, also when the address had its daily wrong codes,
/// with Retry-After), expired (410, whatever was sent), wrong (422). The user row is locked for the whole
/// check, so concurrent tries are counted one by one and only one can activate.
/// </summary>
public static class ActivateAccount
{
    private const string ActivateSql = $"""
        UPDATE activation_codes SET used_at = @Now WHERE id = @CodeId;
        UPDATE users SET status = 'active', activated_at = @Now WHERE id = @UserId
        RETURNING {UserRow.Columns};
        """;

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        HttpRequest request, ClaimsPrincipal principal, [AsParameters] ActivationServices services, CancellationToken cancellationToken)
    {
        var (code, problem) = await CodeVerifier.ReadCodeAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var userId = principal.GetUserId();
        await using var locked = await UserLock.BeginAsync<UserRow>(services.DataSource, userId, UserRow.Columns, cancellationToken);
        if (locked.Row is not { } user)
        {
            return Problems.AccountGone();
        }

        if (user.Status == UserStatus.Active)
        {
            return Problems.AlreadyActive();
        }

        var now = services.Clock.GetDatabaseNow();
        var check = await services.Verifier.CheckAsync(locked.Transaction, userId, CodePurposes.Activation, user.Email, code!, now, cancellationToken);
        services.Metrics.ActivationAttempt(check.Outcome);
        if (await services.Verifier.RefuseAsync(check, locked.Transaction, request.HttpContext, cancellationToken) is { } refusal)
        {
            Log.ActivationRejected(services.Logger, userId, check.Outcome);
            return refusal;
        }

        var activated = await locked.Connection.QuerySingleAsync<UserRow>(new CommandDefinition(
            ActivateSql, new { check.CodeId, UserId = userId, Now = now }, locked.Transaction, cancellationToken: cancellationToken));
        await locked.Transaction.CommitAsync(cancellationToken);
        Log.UserActivated(services.Logger, userId);
        return TypedResults.Ok(activated.ToResponse());
    }
}
