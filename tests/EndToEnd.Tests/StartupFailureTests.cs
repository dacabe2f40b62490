using Registration.Testing.Servers;

namespace EndToEnd.Tests;

/// <summary>
/// A service that cannot start says why in one critical line and exits 1: the real dll, in Production, with
/// one bad setting each (not the unhandled exception's exit 134 and its trace of a hundred lines). Among
/// the reasons: a database that is not UTF-8, on which every non-ASCII address would fail.
/// </summary>
public sealed class StartupFailureTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    public static TheoryData<string, string, string?, string> BadSettings => new()
    {
        { ServiceProcess.Api, "Activation:CodeLifetime", "00:00:00", "'CodeLifetime' with the error" },
        { ServiceProcess.Api, "Activation:CodeLifetime", "soon", "Failed to convert configuration value 'soon' at 'Activation:CodeLifetime'" },
        { ServiceProcess.Api, "Http:MaxRequestBodyBytes", "1", "'MaxRequestBodyBytes' with the error" },
        { ServiceProcess.Api, "ConnectionStrings:Postgres", null, "ConnectionStrings:Postgres is not set" },
        { ServiceProcess.Api, "RabbitMq:Host", null, "'Host' with the error: 'The Host field is required.'" },
        { ServiceProcess.Worker, "Email:Provider", null, "Email:Provider is not set" },
        { ServiceProcess.Worker, "Email:Provider", "Sendgrid", "Failed to convert configuration value 'Sendgrid' at 'Email:Provider'" },
        { ServiceProcess.Worker, "ConnectionStrings:Postgres", null, "ConnectionStrings:Postgres is not set" },
        { ServiceProcess.Worker, "RabbitMq:Password", null, "'Password' with the error: 'The Password field is required.'" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Service_LogsOneCriticalLineAndExits1_WhenASettingIsMissingOrWrong(string service, string key, string? value, string reason)
    {
        var (exitCode, log) = await environment.RunServiceUntilItExitsAsync(service, settings => settings.Set(key, value));

        ShouldHaveRefusedToStart(service, exitCode, log, reason);
    }

    [Fact]
    public async Task Api_LogsOneCriticalLineAndExits1_OnADatabaseThatIsNotUtf8()
    {
        var services = await ExternalServices.GetAsync();
        var sqlAscii = await services.CreateDatabaseAsync(sqlAscii: true);
        try
        {
            var (exitCode, log) = await environment.RunServiceUntilItExitsAsync(ServiceProcess.Api, settings => settings.Database(sqlAscii));

            ShouldHaveRefusedToStart(ServiceProcess.Api, exitCode, log, "is encoded SQL_ASCII, not UTF8");
        }
        finally
        {
            await services.DropDatabaseAsync(sqlAscii);
        }
    }

    private void ShouldHaveRefusedToStart(string service, int exitCode, string log, string reason)
    {
        output.WriteLine(log);
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        exitCode.Should().Be(1, "a service that cannot start exits 1, not 134 (an unhandled exception); its output:\n{0}", log);
        lines.Where(line => line.Contains(" crit: ", StringComparison.Ordinal)).Should().ContainSingle("one critical line says why")
            .Which.Should().Contain($"{service} cannot start: ").And.Contain(reason);
        lines.Should().NotContain(line => line.Contains(" fail: ", StringComparison.Ordinal), "nothing else is logged as an error");
        log.Should().NotContain("   at ", "no stack trace").And.NotContain("Unhandled exception");
        lines.Should().HaveCountLessThan(4, "a failed start is not a wall of text");
    }
}
