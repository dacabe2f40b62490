using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

/// <summary>DELETE /v1/users/me: the account the credentials name, through <see cref="AccountDeletion"/>.</summary>
public static class DeleteCurrentUser
{
    public static async Task<NoContent> HandleAsync(
        ClaimsPrincipal principal, [AsParameters] UserServices services, CancellationToken cancellationToken)
    {
        var userId = principal.GetUserId();
        await AccountDeletion.DeleteAsync(services.DataSource, userId, cancellationToken);
        Log.UserDeleted(services.Logger, userId);
        return TypedResults.NoContent();
    }
}
