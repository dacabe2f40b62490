namespace Registration.Contracts.V1;

/// <summary>
/// A user's sign-in address changed from <see cref="OldEmail"/> to <see cref="NewEmail"/>: a notice goes to the
/// old address (no code), so its owner learns of a change they did not make.
/// </summary>
public sealed record EmailChanged(
    Guid UserId,
    string OldEmail,
    string NewEmail,
    DateTimeOffset OccurredAt);
