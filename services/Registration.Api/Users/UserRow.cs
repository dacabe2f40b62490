using Dapper;
using Npgsql;

namespace Registration.Api.Users;

/// <summary>A users row as the handlers read it (never the hash).</summary>
public sealed record UserRow(Guid Id, string Email, string Status, DateTime CreatedAt, DateTime? ActivatedAt, string? PendingEmail)
{
    public const string Columns = "id, email, status, created_at, activated_at, pending_email";

    private const string FindSql = $"SELECT {Columns} FROM users WHERE id = @Id";

    /// <summary>The account <paramref name="id"/>, or null when there is none (never created, or deleted since).</summary>
    public static Task<UserRow?> FindAsync(
        NpgsqlConnection connection, Guid id, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null) =>
        connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(FindSql, new { Id = id }, transaction, cancellationToken: cancellationToken));

    public UserResponse ToResponse() => new(
        Id,
        Email,
        Status,
        new DateTimeOffset(CreatedAt, TimeSpan.Zero),
        ActivatedAt is { } activated ? new DateTimeOffset(activated, TimeSpan.Zero) : null,
        PendingEmail);
}

/// <summary>The values of <c>users.status</c>.</summary>
public static class UserStatus
{
    public const string Pending = "pending";
    public const string Active = "active";
}
