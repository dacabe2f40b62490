using System.Text;
using Registration.Api.Users;

namespace Registration.Api.Tests.Unit;

public sealed class PasswordRulesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1234567")]
    [InlineData("ééééééé")] // 7 characters, 14 bytes: characters count, not bytes
    public void Validate_Refuses_FewerThan8Characters(string? password)
    {
        PasswordRules.Validate(password).Should().NotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData("12345678")]
    [InlineData("éééééééé")]
    [InlineData("correct horse battery staple")]
    public void Validate_Accepts_8CharactersOrMore(string password)
    {
        PasswordRules.Validate(password).Should().BeNull();
    }

    [Fact]
    public void Validate_CountsCombinedCharactersAsOne()
    {
        // "e" + combining acute accent is one character to a person: 7 of them are still too short.
        var seven = string.Concat(Enumerable.Repeat("e\u0301", 7));
        var eight = string.Concat(Enumerable.Repeat("e\u0301", 8));

        PasswordRules.Validate(seven).Should().NotBeNull();
        PasswordRules.Validate(eight).Should().BeNull();
    }

    [Fact]
    public void Validate_Accepts72AsciiBytes_AndRefuses73()
    {
        PasswordRules.Validate(new string('a', 72)).Should().BeNull();
        PasswordRules.Validate(new string('a', 73)).Should().Contain("72");
    }

    [Fact]
    public void Validate_CountsUtf8Bytes_NotCharacters()
    {
        var euros24 = new string('€', 24);
        var euros25 = new string('€', 25);
        Encoding.UTF8.GetByteCount(euros24).Should().Be(72);
        Encoding.UTF8.GetByteCount(euros25).Should().Be(75);

        PasswordRules.Validate(euros24).Should().BeNull();
        PasswordRules.Validate(euros25).Should().Contain("72");
    }

    [Fact]
    public void Validate_CountsFourByteCharacters()
    {
        var emoji18 = string.Concat(Enumerable.Repeat("😀", 18)); // 72 bytes
        var emoji19 = string.Concat(Enumerable.Repeat("😀", 19)); // 76 bytes

        PasswordRules.Validate(emoji18).Should().BeNull();
        PasswordRules.Validate(emoji19).Should().NotBeNull();
    }

    [Fact]
    public void Validate_RefusesRatherThanTruncates_WhenOnlyTheBytesPast72Differ()
    {
        // bcrypt would hash both to the same value: such passwords must never be accepted.
        var prefix = new string('p', 72);

        PasswordRules.Validate(prefix + "1").Should().NotBeNull();
        PasswordRules.Validate(prefix + "2").Should().NotBeNull();
    }

    [Fact]
    public void Validate_Refuses_TextThatIsNotValidUnicode()
    {
        var loneSurrogate = "password\uD800x";

        PasswordRules.Validate(loneSurrogate).Should().NotBeNull();
    }
}
