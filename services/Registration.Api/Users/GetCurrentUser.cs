using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

/// <summary>GET /v1/users/me: the authenticated user's own account.</summary>
public static class GetCurrentUser
{
    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        ClaimsPrincipal principal, [AsParameters] UserServices services, CancellationToken cancellationToken)
    {
        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        var user = await UserRow.FindAsync(connection, principal.GetUserId(), cancellationToken);

        // Deleted between authentication and this query: the credentials no longer name an account.
        return user is null
            ? Problems.AccountGone()
            : TypedResults.Ok(user.ToResponse());
    }
}
