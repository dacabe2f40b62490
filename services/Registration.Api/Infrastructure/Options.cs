using System.ComponentModel.DataAnnotations;

namespace Registration.Api.Infrastructure;

public sealed class ActivationOptions
{
    public const string SectionName = "Activation";

    /// <summary>How long a code is valid after it was issued (valid while now &lt; expiresAt).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Minimum time between two codes for one user, counted from the last code issued.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ResendCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Never-activated pending accounts older than this are deleted.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan PendingRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the retention purge runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Wrong tries answered 422; the next one locks the code.</summary>
    [Range(1, 100)]
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>Codes reissued because one expired before delivery, per user and per hour, at most.</summary>
    [Range(0, 100)]
    public int MaxRedeliveryReissuesPerHour { get; set; } = 3;
}

public sealed class SecurityOptions
{
    public const string SectionName = "Security";

    /// <summary>bcrypt work factor (log2 of the rounds).</summary>
    [Range(4, 31)]
    public int BcryptWorkFactor { get; set; } = 11;

    /// <summary>bcrypt runs at most this many at once; 0 means one per core.</summary>
    [Range(0, 1024)]
    public int HashingConcurrency { get; set; }

    /// <summary>Requests allowed to wait for a bcrypt slot; past that the API answers 503 at once.</summary>
    [Range(0, 10_000)]
    public int HashingQueueLimit { get; set; } = 16;

    /// <summary>
    /// The longest expected wait for a bcrypt slot a request is admitted with (its place in the queue × the recent
    /// hash time ÷ the slots); a request that would wait longer is answered 503 at once. An admitted request is served.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan HashingQueueTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>bcrypt slots one client (IPv4 address, IPv6 /64) holds at most, running or queued; past that, 429 at once.</summary>
    [Range(1, 1024)]
    public int HashingSlotsPerClient { get; set; } = 2;

    /// <summary>Which bcrypt runs: the system's libxcrypt when usable (Auto), always it (Native), or BCrypt.Net-Next (Managed).</summary>
    [EnumDataType(typeof(BcryptImplementation))]
    public BcryptImplementation BcryptImplementation { get; set; } = BcryptImplementation.Auto;
}

public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>Bearer key for the operator routes. Empty: operator routes answer 403.</summary>
    public string? ApiKey { get; set; }
}

public sealed class OutboxOptions
{
    public const string SectionName = "Outbox";

    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>Fallback poll when no NOTIFY arrives (missed notification, listener reconnecting).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Upper bound on one publish; MassTransit would otherwise wait for the broker forever.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait before a failed row is tried again (backoff doubles up to this).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Dispatched rows (they hold activation codes) are deleted after this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan DispatchedRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Parked rows (poison: never published) are deleted this long after they were parked: time for an operator
    /// to look at them (<c>outbox-parked list</c>), not forever (they hold an email address and a code).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan ParkedRetention { get; set; } = TimeSpan.FromDays(7);
}
