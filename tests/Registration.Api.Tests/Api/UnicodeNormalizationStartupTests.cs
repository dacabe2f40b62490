namespace Registration.Api.Tests.Api;

/// <summary>
/// Email addresses are compared in Unicode NFC, which .NET does only with ICU: with invariant globalization
/// <c>string.Normalize()</c> leaves "e" + U+0301 as it is. The API then refuses to start, with a clear message,
/// rather than let two spellings of one address be two accounts.
/// </summary>
public sealed class UnicodeNormalizationStartupTests
{
    [Fact]
    public async Task TheApi_RefusesToStart_WithInvariantGlobalization()
    {
        await using var api = ServiceProcess.Start(
            "api-invariant", ServiceProcess.Api, new TestSettings().Set("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1"));

        var exitCode = await api.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().NotBe(0);
        api.Output.Should().Contain("Unicode normalisation (NFC) does not work in this process");
    }
}
