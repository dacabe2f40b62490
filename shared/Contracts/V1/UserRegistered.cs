namespace Registration.Contracts.V1;

/// <summary>A user signed up; the activation code must be emailed before <see cref="CodeExpiresAt"/>.</summary>
public sealed record UserRegistered(
    Guid UserId,
    string Email,
    string ActivationCode,
    DateTimeOffset CodeExpiresAt,
    DateTimeOffset OccurredAt);
