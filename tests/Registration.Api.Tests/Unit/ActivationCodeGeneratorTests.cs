using Registration.Api.Activation;

namespace Registration.Api.Tests.Unit;

public sealed class ActivationCodeGeneratorTests
{
    private const int Draws = 20_000;

    private static readonly string[] Codes = Enumerable.Range(0, Draws).Select(_ => ActivationCodeGenerator.Next()).ToArray();

    [Fact]
    public void Next_ReturnsExactlyFourAsciiDigits()
    {
        Codes.Should().OnlyContain(code => code.Length == 4 && code.All(char.IsAsciiDigit));
    }

    [Fact]
    public void Next_KeepsLeadingZeros()
    {
        // One code in ten starts with '0' (about 2,000 of 20,000), one in a hundred with "00".
        Codes.Count(code => code[0] == '0').Should().BeInRange(1_500, 2_500);
        Codes.Count(code => code.StartsWith("00", StringComparison.Ordinal)).Should().BeGreaterThan(100);
    }

    [Fact]
    public void Next_DrawsEveryDigitEquallyOften_InEveryPosition()
    {
        // Expected 2,000 per digit and position; the standard deviation is about 42, so ±300 never fails by
        // chance, yet catches a skewed range such as 1000-9999 or a digit that never appears.
        for (var position = 0; position < 4; position++)
        {
            var counts = Codes.GroupBy(code => code[position]).ToDictionary(group => group.Key, group => group.Count());
            counts.Keys.Should().BeEquivalentTo("0123456789".ToCharArray(), "position {0} should use every digit", position);
            counts.Values.Should().OnlyContain(count => count >= 1_700 && count <= 2_300, "position {0} should be uniform", position);
        }
    }

    [Fact]
    public void Next_SpreadsOverTheWholeRange()
    {
        // 20,000 uniform draws from 10,000 values cover about 8,650 of them.
        Codes.Distinct().Count().Should().BeGreaterThan(8_000);
        Codes.Select(code => int.Parse(code, System.Globalization.CultureInfo.InvariantCulture)).Should().Contain(value => value < 100)
            .And.Contain(value => value > 9_900);
    }

    [Theory]
    [InlineData("0427", true)]
    [InlineData("0000", true)]
    [InlineData("9999", true)]
    [InlineData("427", false)]
    [InlineData("04270", false)]
    [InlineData("04a7", false)]
    [InlineData(" 427", false)]
    [InlineData("٠٤٢٧", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsWellFormed_AcceptsExactlyFourAsciiDigits(string? code, bool expected)
    {
        ActivationCodeGenerator.IsWellFormed(code).Should().Be(expected);
    }

    [Theory]
    [InlineData("0427", "0427", true)]
    [InlineData("0427", "0428", false)]
    [InlineData("0427", "1427", false)]
    [InlineData("0427", "427", false)]
    [InlineData("0427", "04270", false)]
    public void Matches_IsTrueOnlyForTheSameCode(string expected, string actual, bool matches)
    {
        ActivationCodeGenerator.Matches(expected, actual).Should().Be(matches);
    }
}
