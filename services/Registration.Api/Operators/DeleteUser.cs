using Microsoft.AspNetCore.Http.HttpResults;
using Registration.Api.Infrastructure;
using Registration.Api.Users;

namespace Registration.Api.Operators;

/// <summary>DELETE /v1/users/{id} for operators, through <see cref="AccountDeletion"/>. A malformed id is 400, an unknown one 404.</summary>
public static class DeleteUser
{
    public static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(
        string id, [AsParameters] OperatorServices services, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var userId))
        {
            return Problems.Validation("id", "The id must be a UUID.");
        }

        if (!await AccountDeletion.DeleteAsync(services.DataSource, userId, cancellationToken))
        {
            return Problems.NotFound();
        }

        Log.UserDeleted(services.Logger, userId);
        return TypedResults.NoContent();
    }
}
