using System.Text;
using Registration.Contracts.V1;

namespace Notification.Worker.Tests.Support;

public static class TestData
{
    public const string ApiKey = "test-key";
    public const string ApiSecret = "test-secret";

    public static string BasicAuthorization(string user, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    public static UserRegistered UserRegistered(DateTimeOffset codeExpiresAt, string code = "0427")
    {
        var userId = Guid.NewGuid();
        return new UserRegistered(userId, $"user-{userId:N}@example.test", code, codeExpiresAt, codeExpiresAt.AddMinutes(-1));
    }
}
