using System.Globalization;
using System.Text;

namespace Registration.Api.Users;

/// <summary>
/// At least 8 characters and at most 72 UTF-8 bytes: bcrypt ignores everything past byte 72, so a longer
/// password is refused rather than silently truncated.
/// </summary>
public static class PasswordRules
{
    public const int MinCharacters = 8;
    public const int MaxUtf8Bytes = 72;

    /// <summary>Returns null when the password is acceptable, else the reason.</summary>
    public static string? Validate(string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            return "Password is required.";
        }

        // Count characters as a person would (text elements), so "ééééééé" is 7, not 14 bytes' worth.
        if (new StringInfo(password).LengthInTextElements < MinCharacters)
        {
            return $"Password must be at least {MinCharacters} characters.";
        }

        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(password);
        }
        catch (EncoderFallbackException)
        {
            return "Password must be valid Unicode text.";
        }

        return bytes > MaxUtf8Bytes
            ? $"Password must be at most {MaxUtf8Bytes} bytes in UTF-8 (bcrypt's limit)."
            : null;
    }

    public static bool IsAcceptable(string? password) => Validate(password) is null;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
