namespace Registration.Contracts.V1;

/// <summary>
/// The worker could not email a code before it expired (late delivery or a dead-letter replay).
/// The API answers with a fresh code if the user is still waiting for one.
/// </summary>
public sealed record ActivationCodeExpiredBeforeDelivery(
    Guid UserId,
    string Email,
    DateTimeOffset CodeExpiresAt,
    DateTimeOffset OccurredAt);
