namespace Registration.Api.Users;

/// <summary>The user body of every response. Never carries the password hash.</summary>
public sealed record UserResponse(Guid Id, string Email, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt);
