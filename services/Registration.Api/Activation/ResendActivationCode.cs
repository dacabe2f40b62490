using System.Globalization;
using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;
using Registration.Api.Users;
using Registration.Contracts.V1;

namespace Registration.Api.Activation;

public sealed record ActivationCodeResponse(DateTimeOffset ExpiresAt);

/// <summary>
/// POST /v1/users/me/activation-code: a new code for a pending user, at most one per cooldown counted from
/// the last code issued (registration included). A locked or expired code is replaced like any other.
/// </summary>
public static class ResendActivationCode
{
    private const string LockUserSql = "SELECT email, status FROM users WHERE id = @Id FOR UPDATE";

    private const string LastIssuedSql = "SELECT max(issued_at) FROM activation_codes WHERE user_id = @UserId";

    public static async Task<Results<Accepted<ActivationCodeResponse>, ProblemHttpResult>> HandleAsync(
        HttpContext httpContext, ClaimsPrincipal principal, [AsParameters] ActivationServices services, CancellationToken cancellationToken)
    {
        var userId = principal.GetUserId();
        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var user = await connection.QuerySingleOrDefaultAsync<PendingUser>(
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
        var cooldown = services.Options.Value.ResendCooldown;
        var lastIssued = await connection.ExecuteScalarAsync<DateTime?>(
            new CommandDefinition(LastIssuedSql, new { UserId = userId }, transaction, cancellationToken: cancellationToken));
        if (lastIssued is { } last && now < last.AsUtc() + cooldown)
        {
            var wait = last.AsUtc() + cooldown - now;
            httpContext.Response.Headers.RetryAfter = Problems.RetryAfterSeconds(wait).ToString(CultureInfo.InvariantCulture);
            return Problems.ResendTooSoon(wait);
        }

        var issued = await services.Issuer.ReissueAsync(transaction, userId, user.Email, ReissueReasons.Resend, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.CodeReissued(services.Logger, userId, ReissueReasons.Resend);
        return TypedResults.Accepted((string?)null, new ActivationCodeResponse(issued.ExpiresAt));
    }

    private sealed record PendingUser(string Email, string Status);
}
