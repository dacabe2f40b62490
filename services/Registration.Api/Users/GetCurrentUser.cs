using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

/// <summary>GET /v1/users/me: the authenticated user's own account.</summary>
public static class GetCurrentUser
{
    private const string Sql = $"SELECT {UserRow.Columns} FROM users WHERE id = @Id";

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        ClaimsPrincipal principal, [AsParameters] UserServices services, CancellationToken cancellationToken)
    {
        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        var user = await connection.QuerySingleOrDefaultAsync<UserRow>(
            new CommandDefinition(Sql, new { Id = principal.GetUserId() }, cancellationToken: cancellationToken));

        // Deleted between authentication and this query: the credentials no longer name an account.
        return user is null
            ? Problems.AccountGone()
            : TypedResults.Ok(user.ToResponse());
    }
}
