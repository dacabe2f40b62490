using System.Globalization;
using System.Security.Cryptography;

namespace Registration.Api.Activation;

/// <summary>4-digit codes from the operating system's cryptographic RNG; leading zeros kept ("0427").</summary>
public static class ActivationCodeGenerator
{
    public const int Length = 4;

    public static string Next() =>
        RandomNumberGenerator.GetInt32(0, 10_000).ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>Exactly four ASCII digits.</summary>
    public static bool IsWellFormed(string? code) =>
        code is { Length: Length } && code.All(char.IsAsciiDigit);

    /// <summary>Compares in constant time, so timing does not reveal how many leading digits matched.</summary>
    public static bool Matches(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(expected), System.Text.Encoding.ASCII.GetBytes(actual));
}
