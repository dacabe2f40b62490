using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;
using Registration.Api.Users;

namespace Registration.Api.Activation;

public sealed record ActivateAccountRequest(string? Code);

/// <summary>
/// POST /v1/users/me/activation. Checks, in the contract's order: body shape (400), already active (409),
/// code locked (429), code expired (410, whatever was sent), code wrong (422). The user row is locked for
/// the whole check, so concurrent tries are counted one by one and only one can activate.
/// </summary>
public static class ActivateAccount
{
    private const string LockUserSql = $"SELECT {UserRow.Columns} FROM users WHERE id = @Id FOR UPDATE";

    private const string CurrentCodeSql = """
        SELECT id, code, expires_at, failed_attempts FROM activation_codes
        WHERE user_id = @UserId AND superseded_at IS NULL AND used_at IS NULL
        """;

    private const string CountFailureSql = """
        UPDATE activation_codes SET failed_attempts = failed_attempts + 1 WHERE id = @Id RETURNING failed_attempts
        """;

    private const string ActivateSql = $"""
        UPDATE activation_codes SET used_at = @Now WHERE id = @CodeId;
        UPDATE users SET status = 'active', activated_at = @Now, ever_activated = true WHERE id = @UserId
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
        var maxFailures = services.Options.Value.MaxFailedAttempts;

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

        var current = await connection.QuerySingleOrDefaultAsync<CurrentCode>(
            new CommandDefinition(CurrentCodeSql, new { UserId = userId }, transaction, cancellationToken: cancellationToken));
        var now = services.Clock.GetDatabaseNow();

        if (current is not null && current.FailedAttempts >= maxFailures)
        {
            Log.ActivationRejected(services.Logger, userId, "locked");
            services.Metrics.ActivationAttempt("locked");
            return Problems.CodeLocked();
        }

        if (current is null || now >= current.ExpiresAt.AsUtc())
        {
            Log.ActivationRejected(services.Logger, userId, "expired");
            services.Metrics.ActivationAttempt("expired");
            return Problems.CodeExpired();
        }

        if (!ActivationCodeGenerator.Matches(current.Code, body.Code!))
        {
            var failures = await connection.ExecuteScalarAsync<int>(
                new CommandDefinition(CountFailureSql, new { current.Id }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            Log.ActivationRejected(services.Logger, userId, "invalid");
            services.Metrics.ActivationAttempt("invalid");
            return Problems.CodeInvalid(maxFailures - failures);
        }

        var activated = await connection.QuerySingleAsync<UserRow>(new CommandDefinition(
            ActivateSql, new { CodeId = current.Id, UserId = userId, Now = now }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        Log.UserActivated(services.Logger, userId);
        services.Metrics.ActivationAttempt("ok");
        return TypedResults.Ok(activated.ToResponse());
    }

    private sealed record CurrentCode(Guid Id, string Code, DateTime ExpiresAt, int FailedAttempts);
}
