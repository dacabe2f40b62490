namespace Registration.Contracts.V1;

/// <summary>
/// An active user asked to change their sign-in address: <see cref="ConfirmationCode"/> must be emailed to
/// <see cref="NewEmail"/> before <see cref="CodeExpiresAt"/>. The address changes only once the user sends it back.
/// </summary>
public sealed record EmailChangeRequested(
    Guid UserId,
    string NewEmail,
    string ConfirmationCode,
    DateTimeOffset CodeExpiresAt,
    DateTimeOffset OccurredAt);
