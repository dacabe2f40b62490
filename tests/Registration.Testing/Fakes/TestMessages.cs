using Registration.Contracts.V1;

namespace Registration.Testing.Fakes;

/// <summary>Events as the API's outbox publishes them, for a worker tested without the API.</summary>
public static class TestMessages
{
    /// <summary>A registration of a fresh user, its code issued a minute before <paramref name="codeExpiresAt"/>.</summary>
    public static UserRegistered UserRegistered(DateTimeOffset codeExpiresAt, string code = "0427")
    {
        var userId = Guid.NewGuid();
        return new UserRegistered(userId, $"user-{userId:N}@example.test", code, codeExpiresAt, codeExpiresAt.AddMinutes(-1));
    }
}
