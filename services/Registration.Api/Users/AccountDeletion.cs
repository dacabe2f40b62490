using Npgsql;

namespace Registration.Api.Users;

/// <summary>
/// Deletes an account, the shared step of DELETE /v1/users/me (<see cref="DeleteCurrentUser"/>) and the
/// operators' DELETE /v1/users/{id}: the user, its codes (cascade) and its not yet published outbox
/// messages go in one transaction, so no code is emailed for an account that no longer exists, and the
/// email address is free again.
/// </summary>
public static class AccountDeletion
{
    private const string DeleteUnpublishedSql = "DELETE FROM outbox_messages WHERE dispatched_at IS NULL AND payload->>'userId' = $1";

    private const string DeleteUserSql = "DELETE FROM users WHERE id = $1";

    /// <summary>False when there was no such user.</summary>
    public static async Task<bool> DeleteAsync(NpgsqlDataSource dataSource, Guid userId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(DeleteUnpublishedSql) { Parameters = { new NpgsqlParameter { Value = userId.ToString() } } },
                new NpgsqlBatchCommand(DeleteUserSql) { Parameters = { new NpgsqlParameter { Value = userId } } },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
        var deleted = batch.BatchCommands[1].RecordsAffected > 0;
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }
}
