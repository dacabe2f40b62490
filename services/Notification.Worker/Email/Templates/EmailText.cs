using System.Globalization;

namespace Notification.Worker.Email.Templates;

/// <summary>What the templates say the same way: times, lifetimes, masked addresses.</summary>
internal static class EmailText
{
    /// <summary>"2030-01-02 13:04:05 UTC": unambiguous whatever the reader's time zone.</summary>
    public static string Utc(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>"It expires one minute after it was issued, at 2030-01-02 13:04:05 UTC": what every code email says of its code.</summary>
    public static string Expiry(EmailCode code) =>
        $"It expires {DescribeLifetime(code.ExpiresAt - code.IssuedAt)} after it was issued, at {Utc(code.ExpiresAt)}.";

    /// <summary>"one minute", "5 minutes", "90 seconds", "one hour": a code's lifetime as a person says it.</summary>
    public static string DescribeLifetime(TimeSpan lifetime)
    {
        var seconds = (long)Math.Round(lifetime.TotalSeconds);
        return seconds switch
        {
            3600 => "one hour",
            60 => "one minute",
            1 => "one second",
            > 0 when seconds % 3600 == 0 => $"{seconds / 3600} hours",
            > 0 when seconds % 60 == 0 => $"{seconds / 60} minutes",
            _ => $"{seconds} seconds",
        };
    }

    /// <summary>
    /// "jane.doe@example.com" as "j***@e***.com": enough for its owner to recognise, too little for
    /// anyone else to use. The first character of the mailbox and of the domain, and the top-level
    /// domain; the stars never say how long the hidden parts are.
    /// </summary>
    public static string MaskAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var at = address.LastIndexOf('@');
        if (at <= 0 || at == address.Length - 1)
        {
            return "***";
        }

        var mailbox = address[..at];
        var domain = address[(at + 1)..];
        var lastDot = domain.LastIndexOf('.');
        var topLevel = lastDot > 0 && lastDot < domain.Length - 1 ? domain[lastDot..] : string.Empty;
        return $"{FirstCharacter(mailbox)}***@{FirstCharacter(domain)}***{topLevel}";
    }

    // A whole text element: an accented letter or an emoji is never cut in half.
    private static string FirstCharacter(string text) => StringInfo.GetNextTextElement(text, 0);
}
