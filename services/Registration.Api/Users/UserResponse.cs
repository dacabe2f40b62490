namespace Registration.Api.Users;

/// <summary>
/// The user body of every response. Never carries the password hash. <see cref="PendingEmail"/>: the address of
/// an email change awaiting confirmation, else null.
/// </summary>
public sealed record UserResponse(Guid Id, string Email, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt, string? PendingEmail);
