namespace Registration.Contracts.V1;

/// <summary>A new activation code replaced the previous one. <see cref="Reason"/> is one of <see cref="ReissueReasons"/>.</summary>
public sealed record ActivationCodeReissued(
    Guid UserId,
    string Email,
    string ActivationCode,
    DateTimeOffset CodeExpiresAt,
    string Reason,
    DateTimeOffset OccurredAt);

/// <summary>The values <see cref="ActivationCodeReissued.Reason"/> takes.</summary>
public static class ReissueReasons
{
    public const string Resend = "resend";
    public const string EmailChanged = "email-changed";
    public const string Redelivery = "redelivery";
}
