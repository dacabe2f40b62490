using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;
using Registration.Api.Users;

namespace Registration.Api.Operators;

/// <summary>GET /v1/users/{id} for operators. A malformed id is 400, an unknown one 404.</summary>
public static class GetUser
{
    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        string id, [AsParameters] OperatorServices services, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var userId))
        {
            return Problems.Validation("id", "The id must be a UUID.");
        }

        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        var user = await UserRow.FindAsync(connection, userId, cancellationToken);
        return user is null ? Problems.NotFound() : TypedResults.Ok(user.ToResponse());
    }
}
