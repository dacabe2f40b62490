using System.ComponentModel.DataAnnotations;
using System.Net.Mail;
using Microsoft.Extensions.Options;

namespace Notification.Worker.Email;

public enum EmailProvider
{
    /// <summary>Development only: the code is written to the log, nothing is sent.</summary>
    Console,

    /// <summary>Development mailbox with a web UI (https://mailpit.axllent.org), send API v1.</summary>
    Mailpit,

    /// <summary>Production: Mailjet Send API v3.1.</summary>
    Mailjet,
}

public sealed class EmailOptions
{
    public const string SectionName = "Email";

    public EmailProvider Provider { get; set; } = EmailProvider.Console;

    /// <summary>Root of the provider's HTTP API, e.g. https://api.mailjet.com or http://localhost:8025.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>Mailjet API key (Basic auth user); for Mailpit, optional Basic auth user.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Mailjet API secret (Basic auth password); for Mailpit, optional Basic auth password.</summary>
    public string? ApiSecret { get; set; }

    /// <summary>Sender, <c>address</c> or <c>Display Name &lt;address&gt;</c>.</summary>
    [Required]
    public string From { get; set; } = "Registration <no-reply@registration.local>";

    public MailAddress FromAddress() => new(From);
}

/// <summary>The provider-specific rules DataAnnotations cannot express.</summary>
internal sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();

        if (!MailAddress.TryCreate(options.From, out _))
        {
            failures.Add("Email:From must be an email address, optionally as 'Name <address>'.");
        }

        var needsBaseUrl = options.Provider is EmailProvider.Mailjet or EmailProvider.Mailpit;
        if (needsBaseUrl && options.BaseUrl is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            failures.Add($"Email:BaseUrl must be an absolute http(s) URL for the {options.Provider} provider.");
        }

        if (options.Provider == EmailProvider.Mailjet
            && (string.IsNullOrWhiteSpace(options.ApiKey) || string.IsNullOrWhiteSpace(options.ApiSecret)))
        {
            failures.Add("Email:ApiKey and Email:ApiSecret are required for the Mailjet provider.");
        }

        if (options.Provider == EmailProvider.Mailpit
            && string.IsNullOrWhiteSpace(options.ApiKey) != string.IsNullOrWhiteSpace(options.ApiSecret))
        {
            failures.Add("Email:ApiKey and Email:ApiSecret go together (Mailpit Basic auth): set both or neither.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// The HTTP resilience pipeline of the provider client. The defaults suit production; the
/// tests shrink the delays.
/// </summary>
public sealed class EmailResilienceOptions
{
    public const string SectionName = "Email:Resilience";

    /// <summary>Longest wait for one HTTP attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest time for one send, retries and their waits included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>HTTP retries after the first attempt; 0 turns retrying off.</summary>
    [Range(0, 10)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Median wait before the first retry; exponential with jitter after that.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A provider's <c>Retry-After</c> is honoured up to this; longer waits are left to the message retries.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan RetryAfterCap { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Share of failed attempts, over the sampling window, that opens the circuit.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Attempts in the window before the ratio counts (at least 2).</summary>
    [Range(2, 10_000)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:00.501", "01:00:00")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails sends at once before it lets one through again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.501", "01:00:00")]
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
