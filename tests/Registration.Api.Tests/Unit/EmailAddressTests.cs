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
}
