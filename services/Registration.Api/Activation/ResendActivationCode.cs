using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;
using Registration.Api.Users;
using Registration.Contracts.V1;

namespace Registration.Api.Activation;

public sealed record ActivationCodeResponse(DateTimeOffset ExpiresAt);

/// <summary>
/// POST /v1/users/me/activation-code: a new code for a pending user, at most one per cooldown counted from
/// the last code issued (registration included), and within the address's daily number of codes
/// (<see cref="ActivationCodeIssuer"/>). A locked or expired code is replaced like any other.
/// </summary>
public static class ResendActivationCode
{
    private const string LockedColumns = "email, status, last_code_issued_at";

    public static async Task<Results<Accepted<ActivationCodeResponse>, ProblemHttpResult>> HandleAsync(
        HttpContext httpContext, ClaimsPrincipal principal, [AsParameters] ActivationServices services, CancellationToken cancellationToken)
    {
        var userId = principal.GetUserId();
        await using var locked = await UserLock.BeginAsync<PendingUser>(services.DataSource, userId, LockedColumns, cancellationToken);
        if (locked.Row is not { } user)
        {
            return Problems.AccountGone();
        }

        if (user.Status == UserStatus.Active)
        {
            return Problems.AlreadyActive();
        }

        var now = services.Clock.GetDatabaseNow();
        if (services.Issuer.RefuseWithinCooldown(user.LastCodeIssuedAt, now, httpContext) is { } tooSoon)
        {
            return tooSoon;
        }

        var outcome = await services.Issuer.ReissueAsync(locked.Transaction, userId, user.Email, ReissueReasons.Resend, now, cancellationToken);
        if (outcome.RetryAfter is { } wait)
        {
            return services.Issuer.AddressLimited(httpContext, wait);
        }

        await locked.Transaction.CommitAsync(cancellationToken);
        Log.CodeReissued(services.Logger, userId, ReissueReasons.Resend);
        return TypedResults.Accepted((string?)null, new ActivationCodeResponse(outcome.Code!.ExpiresAt));
    }

    private sealed record PendingUser(string Email, string Status, DateTime LastCodeIssuedAt);
}
