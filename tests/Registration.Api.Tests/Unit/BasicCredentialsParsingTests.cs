using System.Text;
using Registration.Api.Infrastructure;

namespace Registration.Api.Tests.Unit;

public sealed class BasicCredentialsParsingTests
{
    [Fact]
    public void TryParseCredentials_ReturnsEmailAndPassword_FromAWellFormedHeader()
    {
        var parsed = BasicAuthentication.TryParseCredentials(Basic("user@example.com:s3cret pass"), out var email, out var password);

        parsed.Should().BeTrue();
        email.Should().Be("user@example.com");
        password.Should().Be("s3cret pass");
    }

    [Fact]
    public void TryParseCredentials_SplitsAtTheFirstColon_SoPasswordsMayContainColons()
    {
        BasicAuthentication.TryParseCredentials(Basic("user@example.com:a:b:c"), out var email, out var password).Should().BeTrue();

        email.Should().Be("user@example.com");
        password.Should().Be("a:b:c");
    }

    [Fact]
    public void TryParseCredentials_DecodesUtf8_AndAcceptsTheSchemeInAnyCase()
    {
        var header = "basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("jörg@exämple.de:pässwörd€"));

        BasicAuthentication.TryParseCredentials(header, out var email, out var password).Should().BeTrue();

        email.Should().Be("jörg@exämple.de");
        password.Should().Be("pässwörd€");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic")]
    [InlineData("Basic ")]
    [InlineData("Bearer dXNlckBleGFtcGxlLmNvbTpwYXNzd29yZA==")] // right payload, wrong scheme
    [InlineData("BasicdXNlckBleGFtcGxlLmNvbTpwYXNzd29yZA==")] // no space after the scheme
    [InlineData("Basic not*base64!")]
    [InlineData("Basic dXNlckBleGFtcGxlLmNvbTpwYXNzd29yZA")] // padding missing
    [InlineData("Basic //79")] // bytes ff fe fd: not UTF-8
    [InlineData("Basic wMA=")] // overlong encoding c0 c0: not UTF-8
    [InlineData("Basic dXNlckBleGFtcGxlLmNvbQ==")] // "user@example.com": no colon
    [InlineData("Basic OnBhc3N3b3Jk")] // ":password": empty email
    [InlineData("Basic ICA6cGFzc3dvcmQ=")] // "  :password": blank email
    [InlineData("Basic dXNlckBleGFtcGxlLmNvbTo=")] // "user@example.com:": empty password
    public void TryParseCredentials_ReturnsFalse_ForAMalformedHeader(string? header)
    {
        BasicAuthentication.TryParseCredentials(header, out _, out _).Should().BeFalse();
    }

    [Fact]
    public void TryParseCredentials_ReturnsFalse_ForAHugeHeader_WithoutDecodingIt()
    {
        var huge = Basic("user@example.com:" + new string('x', 100_000));

        BasicAuthentication.TryParseCredentials(huge, out var email, out var password).Should().BeFalse();

        email.Should().BeEmpty();
        password.Should().BeEmpty();
    }

    [Fact]
    public void TryParseCredentials_AcceptsAHeaderOfTheMaximumLength_AndRefusesOneCharacterMore()
    {
        // 1,530 bytes encode to 2,040 base64 characters; "Basic " and two trailing spaces make 2,048.
        var credentials = "u@example.com:" + new string('x', 1_530 - "u@example.com:".Length);
        var atLimit = Basic(credentials) + "  ";
        atLimit.Length.Should().Be(BasicAuthentication.MaxHeaderLength);

        BasicAuthentication.TryParseCredentials(atLimit, out _, out var password).Should().BeTrue();
        password.Should().HaveLength(1_516);
        BasicAuthentication.TryParseCredentials(atLimit + " ", out _, out _).Should().BeFalse();
    }

    private static string Basic(string credentials) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials));
}
