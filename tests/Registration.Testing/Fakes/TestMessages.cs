using Registration.Contracts.V1;

namespace Registration.Testing.Fakes;

/// <summary>Events as the API's outbox publishes them, for a worker tested without the API.</summary>
public static class TestMessages
{
    /// <summary>A registration of a fresh user, its code issued a minute before <paramref name="codeExpiresAt"/>.</summary>
    public static UserRegistered UserRegistered(DateTimeOffset codeExpiresAt, string code = "0427")
    {
        var userId = Guid.NewGuid();
        return new UserRegistered(userId, AddressOf(userId), code, codeExpiresAt, codeExpiresAt.AddMinutes(-1));
    }

    /// <summary>A new code for the same user and address (a resend), issued a minute before <paramref name="codeExpiresAt"/>.</summary>
    public static ActivationCodeReissued Reissued(UserRegistered registered, DateTimeOffset codeExpiresAt, string code)
    {
        ArgumentNullException.ThrowIfNull(registered);
        return new ActivationCodeReissued(
            registered.UserId, registered.Email, code, codeExpiresAt, ReissueReasons.Resend, codeExpiresAt.AddMinutes(-1));
    }

    /// <summary>An active user's request to sign in with a new address, its code issued a minute before <paramref name="codeExpiresAt"/>.</summary>
    public static EmailChangeRequested EmailChangeRequested(DateTimeOffset codeExpiresAt, string code = "0427")
    {
        var userId = Guid.NewGuid();
        return new EmailChangeRequested(userId, $"new-{userId:N}@example.org", code, codeExpiresAt, codeExpiresAt.AddMinutes(-1));
    }

    /// <summary>A confirmed change of the sign-in address: the notice goes to the old one.</summary>
    public static EmailChanged EmailChanged(DateTimeOffset occurredAt)
    {
        var userId = Guid.NewGuid();
        return new EmailChanged(userId, AddressOf(userId), $"new-{userId:N}@example.org", occurredAt);
    }

    private static string AddressOf(Guid userId) => $"user-{userId:N}@example.test";
}
