using System.Globalization;
using System.Text;

namespace Registration.Api.Users;

/// <summary>
/// The contract's email rules and the one definition of "the same address". An address is trimmed and put in
/// Unicode NFC (so "é" typed as one code point or as "e" + a combining accent is one address), then checked:
/// at most 254 characters after NFC, one '@', a dot in the domain, no whitespace, no ':' (HTTP Basic splits
/// at the first colon, so such an account could never sign in), no control, format or other invisible
/// character (a zero-width space, a right-to-left override, a byte order mark would make two addresses look
/// alike). Two addresses are the same when their <see cref="KeyOf"/> is: NFC, then lower case, computed here
/// and stored in <c>users.email_key</c>, so the database never applies a case rule of its own.
/// </summary>
public static class EmailAddress
{
    public const int MaxLength = 254;

    public static bool TryNormalize(string? input, out string email) => Validate(input, out email) is null;

    /// <summary>Returns null when valid (with the trimmed NFC address in <paramref name="email"/>), else why not.</summary>
    public static string? Validate(string? input, out string email)
    {
        email = input?.Trim() ?? string.Empty;
        if (email.Length == 0)
        {
            return "Email is required.";
        }

        if (!IsWellFormedUtf16(email))
        {
            return "Email must be valid Unicode text.";
        }

        email = email.Normalize(NormalizationForm.FormC);
        if (email.Length > MaxLength)
        {
            return $"Email must be at most {MaxLength} characters.";
        }

        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != email.LastIndexOf('@') || at == email.Length - 1)
        {
            return "Email must contain exactly one '@' with text on both sides.";
        }

        var domain = email.AsSpan(at + 1);
        var dot = domain.IndexOf('.');
        if (dot <= 0 || dot == domain.Length - 1 || domain.Contains("..", StringComparison.Ordinal))
        {
            return "Email domain must contain a dot, e.g. example.com.";
        }

        foreach (var rune in email.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                return "Email must not contain spaces.";
            }

            if (rune.Value == ':')
            {
                return "Email must not contain ':' (HTTP Basic credentials cannot carry it).";
            }

            if (IsInvisible(rune))
            {
                return "Email must not contain control or invisible characters.";
            }
        }

        return null;
    }

    /// <summary>
    /// The comparison key of an address: trimmed, NFC, lower case (invariant culture). Defined for any text that
    /// could be stored, valid as an address or not, since sign-in throttling counts the address a client sent
    /// whether or not it could be registered; null for text with a control character (PostgreSQL cannot store a
    /// NUL; no address, old or new, has one) or that is not valid UTF-16 (an unpaired surrogate).
    /// </summary>
    public static string? KeyOf(string? address)
    {
        var trimmed = address?.Trim() ?? string.Empty;
        return IsWellFormedUtf16(trimmed) && !trimmed.Any(char.IsControl)
            ? trimmed.Normalize(NormalizationForm.FormC).ToLowerInvariant()
            : null;
    }

    /// <summary>
    /// Throws when this process cannot put text in NFC. With invariant globalization (or without ICU) .NET's
    /// <see cref="string.Normalize()"/> leaves "e" + U+0301 as it is, and two spellings of one address would be
    /// two accounts: the API refuses to start rather than compare addresses wrongly.
    /// </summary>
    public static void EnsureUnicodeNormalizationWorks()
    {
        string composed;
        try
        {
            composed = "e\u0301".Normalize(NormalizationForm.FormC);
        }
        catch (PlatformNotSupportedException)
        {
            composed = string.Empty;
        }

        if (composed != "\u00E9")
        {
            throw new InvalidOperationException(
                "Unicode normalisation (NFC) does not work in this process, so email addresses cannot be compared: "
                + "the .NET runtime runs with invariant globalization (DOTNET_SYSTEM_GLOBALIZATION_INVARIANT or "
                + "InvariantGlobalization) or cannot load ICU. Install libicu and run without invariant globalization.");
        }
    }

    /// <summary>
    /// Control (Cc), format (Cf: zero-width space and joiners, bidirectional overrides, byte order mark, soft
    /// hyphen), surrogate, unassigned and line or paragraph separator code points, plus the few other
    /// default-ignorable ones Unicode renders as nothing (Hangul fillers, variation selectors, the combining
    /// grapheme joiner, Khmer and Mongolian invisibles).
    /// </summary>
    private static bool IsInvisible(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        || rune.Value is 0x034F or 0x115F or 0x1160 or 0x17B4 or 0x17B5 or (>= 0x180B and <= 0x180F) or 0x3164
            or (>= 0xFE00 and <= 0xFE0F) or 0xFFA0 or (>= 0xE0100 and <= 0xE01EF);

    /// <summary>No unpaired surrogate (JSON can carry one as an escape; NFC and PostgreSQL would refuse it).</summary>
    private static bool IsWellFormedUtf16(string text)
    {
        for (var index = 0; index < text.Length; index++)
        {
            if (char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
            {
                index++;
            }
            else if (char.IsSurrogate(text[index]))
            {
                return false;
            }
        }

        return true;
    }
}
