namespace Registration.Testing.Settings;

/// <summary>
/// Every configuration key the tests set, named once. The in-process hosts take it as configuration
/// (<c>RabbitMq:Host</c>), a child process as environment variables (<c>RabbitMq__Host</c>). Fluent and
/// mutable: a fixture builds the defaults, a test adds what it is about.
/// </summary>
public sealed class TestSettings
{
    /// <summary>The operator key every test API is given (<c>Admin:ApiKey</c>).</summary>
    public const string OperatorKey = "test-operator-key-5b0c1f4e9d2a4e7f";

    /// <summary>What the worker signs in to the provider with (<c>Email:ApiKey</c>, <c>Email:ApiSecret</c>).</summary>
    public static readonly (string Key, string Secret) EmailCredentials = ("test-key", "test-secret");

    private readonly Dictionary<string, string> _values;

    public TestSettings() => _values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    private TestSettings(Dictionary<string, string> values) => _values = new Dictionary<string, string>(values, StringComparer.OrdinalIgnoreCase);

    /// <summary>The value of a key, or null when the tests leave it to the service's default.</summary>
    public string? this[string key] => _values.GetValueOrDefault(key);

    public TestSettings Copy() => new(_values);

    /// <summary>Sets a key the methods below do not name; null leaves it to the service's default.</summary>
    public TestSettings Set(string key, string? value)
    {
        if (value is null)
        {
            _values.Remove(key);
        }
        else
        {
            _values[key] = value;
        }

        return this;
    }

    public TestSettings Set(string key, int value) => Set(key, value.ToString(CultureInfo.InvariantCulture));

    public TestSettings Set(string key, TimeSpan value) => Set(key, value.ToString("c", CultureInfo.InvariantCulture));

    private TestSettings SetIfGiven(string key, int? value) => value is { } given ? Set(key, given) : this;

    // ---- Both services ---------------------------------------------------------------------------

    public TestSettings Database(string connectionString) => Set("ConnectionStrings:Postgres", connectionString);

    /// <summary>The virtual host and its credentials, reached directly.</summary>
    public TestSettings Broker(RabbitMqVirtualHost vhost)
    {
        ArgumentNullException.ThrowIfNull(vhost);
        return Set("RabbitMq:Host", vhost.Host)
            .Set("RabbitMq:Port", vhost.Port)
            .Set("RabbitMq:VirtualHost", vhost.VirtualHost)
            .Set("RabbitMq:Username", vhost.Username)
            .Set("RabbitMq:Password", vhost.Password);
    }

    /// <summary>The same virtual host, reached through a proxy a test can cut.</summary>
    public TestSettings BrokerVia(SwitchableTcpProxy proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        return Set("RabbitMq:Host", "127.0.0.1").Set("RabbitMq:Port", proxy.Port);
    }

    /// <summary>How the services declare their queues: quorum or classic, the delivery limit, how long dead letters are kept.</summary>
    public TestSettings Queues(bool? quorum = null, int? deliveryLimit = null, TimeSpan? deadLetterRetention = null)
    {
        if (quorum is { } isQuorum)
        {
            Set("RabbitMq:QuorumQueues", isQuorum ? "true" : "false");
        }

        if (deliveryLimit is { } limit)
        {
            Set("RabbitMq:DeliveryLimit", limit);
        }

        return deadLetterRetention is { } retention ? Set("RabbitMq:DeadLetterRetention", retention) : this;
    }

    /// <summary><c>Logging:LogLevel:{category}</c> for each category, or the default level when none is named.</summary>
    public TestSettings LogLevel(string level, params string[] categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        foreach (var category in categories.Length == 0 ? ["Default"] : categories)
        {
            Set($"Logging:LogLevel:{category}", level);
        }

        return this;
    }

    // ---- Registration.Api ------------------------------------------------------------------------

    /// <summary>bcrypt at its minimum cost: the tests hash thousands of passwords.</summary>
    public TestSettings FastBcrypt() => BcryptWorkFactor(4);

    public TestSettings BcryptWorkFactor(int workFactor) => Set("Security:BcryptWorkFactor", workFactor);

    /// <summary>The bcrypt bulkhead: hashes at once, and hashes allowed to wait.</summary>
    public TestSettings Hashing(int? concurrency = null, int? queueLimit = null)
    {
        if (concurrency is { } running)
        {
            Set("Security:HashingConcurrency", running);
        }

        return queueLimit is { } waiting ? Set("Security:HashingQueueLimit", waiting) : this;
    }

    /// <summary>bcrypt slots one client may hold, running or queued (<c>Security:HashingSlotsPerClient</c>).</summary>
    public TestSettings HashingSlotsPerClient(int slots) => Set("Security:HashingSlotsPerClient", slots);

    /// <summary>Which bcrypt the API runs: <c>Native</c> (libxcrypt, refusing to start without it), <c>Managed</c> or <c>Auto</c>.</summary>
    public TestSettings BcryptImplementation(string implementation) => Set("Security:BcryptImplementation", implementation);

    /// <summary>Off: every in-memory request comes from one "address", and load tests come from one too.</summary>
    public TestSettings RateLimitsOff() => Set("RateLimiting:Enabled", "false");

    /// <summary>Per-client limits on, with a window long enough never to roll over during a run; a limit left null keeps its default.</summary>
    public TestSettings RateLimits(
        TimeSpan window, int registrations, int? activations = null, int? resends = null, int? accountRequests = null, int? operatorRequests = null)
    {
        Set("RateLimiting:Enabled", "true").Set("RateLimiting:Window", window).Set("RateLimiting:RegistrationsPerWindow", registrations);
        SetIfGiven("RateLimiting:ActivationsPerWindow", activations);
        SetIfGiven("RateLimiting:ResendsPerWindow", resends);
        SetIfGiven("RateLimiting:AccountRequestsPerWindow", accountRequests);
        return SetIfGiven("RateLimiting:OperatorRequestsPerWindow", operatorRequests);
    }

    /// <summary>
    /// The design's abuse limits, counted in PostgreSQL: codes emailed and wrong codes per address and day,
    /// consecutive failed sign-ins per (email, client), failed sign-ins per email and hour. Null keeps the default.
    /// </summary>
    public TestSettings AbuseLimits(
        int? codesPerAddressPerDay = null, int? wrongCodesPerAddressPerDay = null, int? failedSignIns = null, int? failedSignInsPerAccountPerHour = null)
    {
        SetIfGiven("Activation:MaxCodesPerAddressPerDay", codesPerAddressPerDay);
        SetIfGiven("Activation:MaxFailedAttemptsPerAddressPerDay", wrongCodesPerAddressPerDay);
        SetIfGiven("Security:MaxFailedSignIns", failedSignIns);
        return SetIfGiven("Security:MaxFailedSignInsPerAccountPerHour", failedSignInsPerAccountPerHour);
    }

    /// <summary>Rows the retention purge deletes per statement (<c>Activation:PurgeBatchSize</c>).</summary>
    public TestSettings PurgeBatchSize(int rows) => Set("Activation:PurgeBatchSize", rows);

    /// <summary>Loopback as the trusted reverse proxy: a test names its client address with X-Forwarded-For.</summary>
    public TestSettings TrustLoopbackProxy() => Set("Http:KnownProxies:0", "127.0.0.1").Set("Http:KnownProxies:1", "::1");

    /// <summary>The operator routes open to <c>Bearer {key}</c>; null closes them.</summary>
    public TestSettings Operator(string? key = OperatorKey) => Set("Admin:ApiKey", key);

    public TestSettings CodeLifetime(TimeSpan lifetime) => Set("Activation:CodeLifetime", lifetime);

    /// <summary>The outbox dispatcher's waits: how often it polls, how long a publish may go unconfirmed, the longest retry delay.</summary>
    public TestSettings Outbox(TimeSpan? pollInterval = null, TimeSpan? publishTimeout = null, TimeSpan? maxRetryDelay = null)
    {
        if (pollInterval is { } poll)
        {
            Set("Outbox:PollInterval", poll);
        }

        if (publishTimeout is { } publish)
        {
            Set("Outbox:PublishTimeout", publish);
        }

        return maxRetryDelay is { } retry ? Set("Outbox:MaxRetryDelay", retry) : this;
    }

    // ---- Notification.Worker ---------------------------------------------------------------------

    /// <summary>The worker emails through <paramref name="provider"/>, speaking Mailjet or Mailpit, with test credentials.</summary>
    public TestSettings EmailProvider(FakeEmailProvider provider, EmailApi api = EmailApi.Mailjet)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return Set("Email:Provider", api.ToString())
            .Set("Email:BaseUrl", provider.BaseUrl.ToString())
            .Set("Email:ApiKey", EmailCredentials.Key)
            .Set("Email:ApiSecret", EmailCredentials.Secret)
            .Set("Email:From", "Registration <no-reply@example.test>");
    }

    /// <summary>
    /// The worker's retries with their waits shrunk to milliseconds: <paramref name="http"/> HTTP retries per
    /// delivery, then <paramref name="message"/> message retries before the error queue.
    /// </summary>
    public TestSettings Retries(int http, int message) =>
        Set("Email:Resilience:MaxRetryAttempts", http)
            .Set("Email:Resilience:RetryBaseDelay", TimeSpan.FromMilliseconds(10))
            .Set("Email:Resilience:RetryMaxDelay", TimeSpan.FromMilliseconds(50))
            .Set("Email:Resilience:RetryAfterCap", TimeSpan.FromSeconds(2))
            .Set("Consumer:MessageRetryLimit", message)
            .Set("Consumer:MessageRetryInitialInterval", TimeSpan.FromMilliseconds(50))
            .Set("Consumer:MessageRetryMaxInterval", TimeSpan.FromMilliseconds(400));

    /// <summary>How long one HTTP attempt, and a send with all its retries, may take.</summary>
    public TestSettings ProviderTimeouts(TimeSpan attempt, TimeSpan total) =>
        Set("Email:Resilience:AttemptTimeout", attempt).Set("Email:Resilience:TotalTimeout", total);

    /// <summary>The circuit breaker; <see cref="BreakerOff"/> unless a test is about it.</summary>
    public TestSettings Breaker(int minimumThroughput, double failureRatio, TimeSpan breakDuration) =>
        Set("Email:Resilience:BreakerMinimumThroughput", minimumThroughput)
            .Set("Email:Resilience:BreakerFailureRatio", failureRatio.ToString(CultureInfo.InvariantCulture))
            .Set("Email:Resilience:BreakerBreakDuration", breakDuration);

    /// <summary>A test that fails many sends must see each of them reach the provider.</summary>
    public TestSettings BreakerOff() => Set("Email:Resilience:BreakerMinimumThroughput", 1000);

    /// <summary>Messages one worker handles at once, and how many it holds unacked.</summary>
    public TestSettings Consumers(int concurrency, int prefetch) =>
        Set("Consumer:ConcurrentMessageLimit", concurrency).Set("Consumer:PrefetchCount", prefetch);

    /// <summary>Where the worker serves /health/live, /health/ready and /metrics; 0 turns them off.</summary>
    public TestSettings TelemetryPort(int port) => Set("Telemetry:Port", port);

    /// <summary>How long a stopping worker lets in-flight sends finish.</summary>
    public TestSettings StopTimeout(TimeSpan timeout) => Set("Consumer:StopTimeout", timeout);

    // ---- What the hosts read ---------------------------------------------------------------------

    /// <summary>Configuration keys and values, for an in-process host.</summary>
    public IReadOnlyDictionary<string, string> ToConfiguration() => new Dictionary<string, string>(_values, StringComparer.OrdinalIgnoreCase);

    /// <summary>Environment variables as ASP.NET Core reads them (<c>RabbitMq__Host</c>), for a child process.</summary>
    public IReadOnlyDictionary<string, string> ToEnvironmentVariables() =>
        _values.ToDictionary(pair => pair.Key.Replace(":", "__", StringComparison.Ordinal), pair => pair.Value, StringComparer.Ordinal);
}

/// <summary>Which provider API the worker speaks (<c>Email:Provider</c>).</summary>
public enum EmailApi
{
    Mailjet,
    Mailpit,
}
