using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

/// <summary>
/// DELETE /v1/users/me and DELETE /v1/users/{id}: the user, its codes (cascade) and its not yet published
/// outbox messages go in one transaction, so no code is emailed for an account that no longer exists,
/// and the email address is free again.
/// </summary>
public static class DeleteUser
{
    public static async Task<Results<NoContent, ProblemHttpResult>> HandleSelfAsync(
        ClaimsPrincipal principal, NpgsqlDataSource dataSource, ILogger<UserResponse> logger, CancellationToken cancellationToken)
    {
        var userId = principal.GetUserId();
        await DeleteAsync(dataSource, userId, cancellationToken);
        Log.UserDeleted(logger, userId, "self");
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> HandleByOperatorAsync(
        string id, NpgsqlDataSource dataSource, ILogger<UserResponse> logger, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var userId))
        {
            return Problems.Validation("id", "The id must be a UUID.");
        }

        if (!await DeleteAsync(dataSource, userId, cancellationToken))
        {
            return Problems.NotFound();
        }

        Log.UserDeleted(logger, userId, "operator");
        return TypedResults.NoContent();
    }

    private static async Task<bool> DeleteAsync(NpgsqlDataSource dataSource, Guid userId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("DELETE FROM outbox_messages WHERE dispatched_at IS NULL AND payload->>'userId' = $1")
                {
                    Parameters = { new NpgsqlParameter { Value = userId.ToString() } },
                },
                new NpgsqlBatchCommand("DELETE FROM users WHERE id = $1") { Parameters = { new NpgsqlParameter { Value = userId } } },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
        var deleted = batch.BatchCommands[1].RecordsAffected > 0;
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }
}
