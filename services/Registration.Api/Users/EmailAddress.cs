namespace Registration.Api.Users;

/// <summary>The contract's email rule: trimmed, at most 254 characters, one '@', a dot in the domain.</summary>
public static class EmailAddress
{
    public const int MaxLength = 254;

    public static bool TryNormalize(string? input, out string email) => Validate(input, out email) is null;

    /// <summary>Returns null when valid (with the trimmed address in <paramref name="email"/>), else why not.</summary>
    public static string? Validate(string? input, out string email)
    {
        email = input?.Trim() ?? string.Empty;
        if (email.Length == 0)
        {
            return "Email is required.";
        }

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

        foreach (var c in email)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return "Email must not contain spaces or control characters.";
            }
        }

        return null;
    }
}
