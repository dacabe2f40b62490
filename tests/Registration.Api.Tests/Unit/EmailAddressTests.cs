using Registration.Api.Users;

namespace Registration.Api.Tests.Unit;

public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("user@example.com", "user@example.com")]
    [InlineData("  User@Example.COM  ", "User@Example.COM")]
    [InlineData("\tuser@example.com\n", "user@example.com")]
    [InlineData("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk")]
    [InlineData("ünïcödé@exämple.de", "ünïcödé@exämple.de")]
    public void Validate_AcceptsAndTrims_AValidAddress(string input, string expected)
    {
        EmailAddress.Validate(input, out var email).Should().BeNull();
        email.Should().Be(expected);
        EmailAddress.TryNormalize(input, out _).Should().BeTrue();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("userexample.com")]
    [InlineData("user@@example.com")]
    [InlineData("us@er@example.com")]
    [InlineData("@example.com")]
    [InlineData("user@")]
    [InlineData("user@example")]
    [InlineData("user@.example.com")]
    [InlineData("user@example.")]
    [InlineData("user@example..com")]
    [InlineData("us er@example.com")]
    [InlineData("user@exam ple.com")]
    [InlineData("user\t@example.com")]
    [InlineData("user\u00A0@example.com")] // no-break space
    [InlineData("user\u0000@example.com")]
    public void Validate_Refuses_AnAddressBreakingARule(string? input)
    {
        EmailAddress.Validate(input, out _).Should().NotBeNullOrWhiteSpace();
        EmailAddress.TryNormalize(input, out _).Should().BeFalse();
    }

    [Fact]
    public void Validate_AcceptsAt254Characters_AndRefusesAt255()
    {
        const string domain = "@example.com";
        var longest = new string('a', 254 - domain.Length) + domain;
        var tooLong = "a" + longest;

        EmailAddress.Validate(longest, out _).Should().BeNull();
        EmailAddress.Validate(tooLong, out _).Should().Contain("254");
    }

    [Fact]
    public void Validate_CountsTheLengthAfterTrimming()
    {
        const string domain = "@example.com";
        var longest = new string('a', 254 - domain.Length) + domain;

        EmailAddress.Validate($"   {longest}   ", out var email).Should().BeNull();
        email.Should().HaveLength(254);
    }

    [Theory]
    [InlineData("a:b@example.test")]
    [InlineData("user@exa:mple.test")]
    [InlineData("a\u200Bb@example.test")] // zero-width space (Cf)
    [InlineData("a\u200Db@example.test")] // zero-width joiner (Cf)
    [InlineData("a\u202Eb@example.test")] // right-to-left override (Cf)
    [InlineData("\uFEFFab@example.test")] // byte order mark (Cf), not trimmed
    [InlineData("a\u00ADb@example.test")] // soft hyphen (Cf)
    [InlineData("a\u2060b@example.test")] // word joiner (Cf)
    [InlineData("a\u2028b@example.test")] // line separator
    [InlineData("a\u0085b@example.test")] // next line (Cc)
    [InlineData("a\u3164b@example.test")] // Hangul filler: a letter that renders as nothing
    [InlineData("a\uFE0Fb@example.test")] // variation selector
    [InlineData("a\u034Fb@example.test")] // combining grapheme joiner
    [InlineData("a\u0378b@example.test")] // unassigned
    public void Validate_Refuses_AColonAndInvisibleOrControlCharacters(string input)
    {
        EmailAddress.Validate(input, out _).Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Validate_Refuses_AnUnpairedSurrogate()
    {
        // Built here: a theory's data would reach the test with the surrogate replaced by U+FFFD.
        var input = "a" + (char)0xD800 + "b@example.test";

        EmailAddress.Validate(input, out _).Should().Be("Email must be valid Unicode text.");
        EmailAddress.KeyOf(input).Should().BeNull();
    }

    [Fact]
    public void Validate_ReturnsTheAddressInNfc_SoBothSpellingsOfAnAccentAreOneAddress()
    {
        EmailAddress.Validate("jose\u0301@example.test", out var decomposed).Should().BeNull();
        EmailAddress.Validate("jos\u00E9@example.test", out var composed).Should().BeNull();

        decomposed.Should().Be("jos\u00E9@example.test");
        composed.Should().Be(decomposed);
    }

    [Fact]
    public void Validate_CountsTheLengthAfterNfc()
    {
        const string domain = "@example.com";
        // 242 "e" + U+0301 pairs are 484 characters as sent and 242 after NFC.
        var decomposed = string.Concat(Enumerable.Repeat("e\u0301", 254 - domain.Length)) + domain;

        EmailAddress.Validate(decomposed, out var email).Should().BeNull();
        email.Should().HaveLength(254);
    }

    [Theory]
    [InlineData("Ada@Example.COM", "ada@example.com")]
    [InlineData("  JOSE\u0301@EXAMPLE.TEST ", "jos\u00E9@example.test")]
    [InlineData("\u212Aelvin@example.test", "kelvin@example.test")] // KELVIN SIGN is K in NFC
    [InlineData("\u0130stanbul@example.test", "\u0130stanbul@example.test")] // dotted capital I: invariant casing keeps it
    public void KeyOf_IsNfcThenInvariantLowerCase(string address, string key)
    {
        EmailAddress.KeyOf(address).Should().Be(key);
    }

    [Fact]
    public void KeyOf_IsDefinedForAnyTextThatCouldBeStored()
    {
        EmailAddress.KeyOf("no at sign, spaces: anything").Should().NotBeNull("sign-in throttling keys whatever a client sent");
        EmailAddress.KeyOf("\0@example.test").Should().BeNull("PostgreSQL cannot store a NUL (the input sweep's exploration found it: 503)");
        EmailAddress.KeyOf("a\tb@example.test").Should().BeNull();
    }

    [Fact]
    public void EnsureUnicodeNormalizationWorks_Passes_InAProcessWithIcu()
    {
        var check = EmailAddress.EnsureUnicodeNormalizationWorks;

        check.Should().NotThrow("the test projects run with ICU, as the API does");
    }
}
