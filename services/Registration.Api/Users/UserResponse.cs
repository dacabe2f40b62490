namespace Registration.Api.Users;

/// <summary>The user body of every response. Never carries the password hash.</summary>
public sealed record UserResponse(Guid Id, string Email, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt);

/// <summary>A users row as read by the handlers (no hash).</summary>
public sealed record UserRow(Guid Id, string Email, string Status, DateTime CreatedAt, DateTime? ActivatedAt)
{
    public const string Columns = "id, email, status, created_at, activated_at";

    public UserResponse ToResponse() => new(
        Id,
        Email,
        Status,
        new DateTimeOffset(CreatedAt, TimeSpan.Zero),
        ActivatedAt is { } activated ? new DateTimeOffset(activated, TimeSpan.Zero) : null);
}

public static class UserStatus
{
    public const string Pending = "pending";
    public const string Active = "active";
}
