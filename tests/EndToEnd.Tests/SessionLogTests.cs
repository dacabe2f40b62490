using Microsoft.Extensions.Logging;

namespace EndToEnd.Tests;

/// <summary>
/// What an operator reads in the API's log at the production level (Information) for one user's session,
/// register, a wrong password, activate: one line per thing that happened, nothing of the framework's
/// authentication chatter (it logged two Info lines for every failed Basic challenge), and never the
/// address, the password or the code.
/// </summary>
public sealed class SessionLogTests(SessionLogTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<SessionLogTests.Fixture>
{
    public sealed class Fixture : ApiFixture
    {
        protected override void Configure(TestSettings settings) => settings.Set("Logging:LogLevel:Default", null);
    }

    [Fact]
    public async Task RegisterWrongPasswordActivate_LogsOneLinePerEvent_AndNoAuthenticationChatter()
    {
        await using var worker = await fixture.StartWorkerAsync();
        using var client = fixture.CreateClient();
        var sessionStart = DateTime.UtcNow;

        var user = await client.RegisterUserAsync(ApiRequests.UniqueEmail("session"));
        using var wrongPassword = await client.GetMeAsync(BasicAuth.Header(user.Email, "not the password"));
        using var noCredentials = await client.GetMeAsync(credentials: null);
        var code = (await Eventually.GetAsync(() => fixture.Provider.DeliveredTo(user.Email), emails => emails.Count > 0, "the activation email"))[0].Code!;
        using var activated = await client.ActivateAsync(user, code);

        activated.StatusCode.Should().Be(HttpStatusCode.OK);
        var lines = fixture.Api.Logs.Lines.Where(line => line.At >= sessionStart && line.Level >= LogLevel.Information).ToList();
        foreach (var line in lines)
        {
            output.WriteLine($"{line.Level} {line.Category}[{line.EventId}] {line.Message}");
        }

        lines.Select(line => line.EventName).Should().Equal(["UserRegistered", "UserActivated"], "one line per event of the session, nothing else");
        lines.Should().NotContain(line => line.Message.Contains(user.Email, StringComparison.OrdinalIgnoreCase)
            || line.Message.Contains(user.Password, StringComparison.Ordinal) || line.Message.Contains(code, StringComparison.Ordinal));
    }
}
