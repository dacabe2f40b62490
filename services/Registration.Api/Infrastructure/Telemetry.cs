using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Registration.Api.Outbox;
using Registration.Hosting;

namespace Registration.Api.Infrastructure;

/// <summary>
/// The API's own metrics. Names follow OpenTelemetry conventions; Prometheus shows them with dots as
/// underscores (e.g. <c>registration_users_registered_total</c>).
/// </summary>
public sealed class RegistrationMetrics : IDisposable
{
    public const string MeterName = "Registration.Api";

    private readonly Meter _meter;
    private readonly Counter<long> _registrations;
    private readonly Counter<long> _activations;
    private readonly Counter<long> _outboxPublished;
    private readonly Counter<long> _outboxFailed;
    private readonly Counter<long> _rejectedBusy;
    private readonly Counter<long> _addressLimitReached;
    private readonly Counter<long> _signInsThrottled;
    private readonly Counter<long> _outboxParked;
    private readonly Histogram<double> _hashingDuration;
    private readonly Counter<long> _hashingRefused;
    private string? _hashingImplementation;
    private double _outboxLagSeconds;
    private long _outboxPending;

    public RegistrationMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _registrations = _meter.CreateCounter<long>("registration.users.registered", "{user}", "Users registered (201).");
        _activations = _meter.CreateCounter<long>("registration.activations", "{attempt}", "Activation attempts by outcome: ok, invalid, expired, locked.");
        _outboxPublished = _meter.CreateCounter<long>("registration.outbox.published", "{message}", "Outbox messages confirmed by the broker.");
        _outboxFailed = _meter.CreateCounter<long>("registration.outbox.publish_failures", "{message}", "Outbox publishes not confirmed (retried later).");
        _rejectedBusy = _meter.CreateCounter<long>("registration.requests.rejected_busy", "{request}", "Requests answered 503 because password hashing was at capacity.");
        _addressLimitReached = _meter.CreateCounter<long>("registration.address_limit.reached", "{event}",
            "Codes not sent (kind code-sent) or tries refused (kind wrong-code) because an address had its daily number.");
        _signInsThrottled = _meter.CreateCounter<long>("registration.sign_ins.throttled", "{request}",
            "Sign-ins answered 429 without bcrypt: scope client (one email from one client) or email (from all clients).");
        _outboxParked = _meter.CreateCounter<long>("registration.outbox.parked", "{message}",
            "Outbox messages parked instead of published: a type no instance knows, or a payload that cannot be read (by reason).");
        _hashingDuration = _meter.CreateHistogram("registration.password_hashing.duration", "s",
            "Time of one bcrypt run (hash or verify), by implementation.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _hashingRefused = _meter.CreateCounter<long>("registration.password_hashing.refused", "{request}",
            "Requests refused before bcrypt: client-share (429, the client holds its share of slots) or busy (503, the queue is full or too slow).");
        _meter.CreateObservableGauge("registration.password_hashing.implementation", ObserveHashingImplementation, "{implementation}",
            "1 for the bcrypt implementation this instance runs (label implementation: native or managed).");
        _meter.CreateObservableGauge("registration.outbox.lag", () => Volatile.Read(ref _outboxLagSeconds), "s",
            "Age of the oldest undispatched outbox message (0 when none).");
        _meter.CreateObservableGauge("registration.outbox.pending", () => Volatile.Read(ref _outboxPending), "{message}",
            "Outbox messages waiting to be published.");

        // Every series exists from the start, at 0: a rate or an alert on one that has not happened yet (a
        // locked code, a failed publish) then reads 0, not "no data".
        _registrations.Add(0);
        foreach (var outcome in ActivationOutcomes)
        {
            _activations.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

        _outboxPublished.Add(0);
        _outboxFailed.Add(0);
        _rejectedBusy.Add(0);
    }

    /// <summary>The <c>outcome</c> label values of <c>registration.activations</c>.</summary>
    public static readonly IReadOnlyList<string> ActivationOutcomes = ["ok", "invalid", "expired", "locked"];

    public void UserRegistered() => _registrations.Add(1);

    public void ActivationAttempt(string outcome) => _activations.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void RejectedBusy() => _rejectedBusy.Add(1);

    /// <param name="kind"><c>code-sent</c> or <c>wrong-code</c>.</param>
    public void AddressLimitReached(string kind) => _addressLimitReached.Add(1, new KeyValuePair<string, object?>("kind", kind));

    /// <param name="scope"><c>client</c> or <c>email</c>.</param>
    public void SignInThrottled(string scope) => _signInsThrottled.Add(1, new KeyValuePair<string, object?>("scope", scope));

    public void OutboxPublished(int count) => _outboxPublished.Add(count);

    public void OutboxParked(string reason) => _outboxParked.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void PasswordHashingImplementation(string implementation) => Volatile.Write(ref _hashingImplementation, implementation);

    public void PasswordHashingRun(string implementation, TimeSpan elapsed) =>
        _hashingDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("implementation", implementation));

    public void PasswordHashingRefused(string reason) => _hashingRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void OutboxPublishFailed(int count) => _outboxFailed.Add(count);

    public void OutboxBacklog(long pending, TimeSpan oldestAge)
    {
        Volatile.Write(ref _outboxPending, pending);
        Volatile.Write(ref _outboxLagSeconds, Math.Max(0, oldestAge.TotalSeconds));
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<int>> ObserveHashingImplementation() =>
        Volatile.Read(ref _hashingImplementation) is { } implementation
            ? [new Measurement<int>(1, new KeyValuePair<string, object?>("implementation", implementation))]
            : [];
}

public static class Telemetry
{
    public const string ServiceName = "registration-api";

    /// <summary>
    /// The shared telemetry (<see cref="ServiceDefaults.AddTelemetryDefaults"/>) plus the API's own: incoming
    /// HTTP (health and metrics scrapes left out), SQL, the outbox publish spans, its meter, and
    /// Prometheus text at /metrics.
    /// </summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RegistrationMetrics>();
        builder.AddTelemetryDefaults(ServiceName)
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => !context.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal)
                        && !context.Request.Path.StartsWithSegments("/metrics", StringComparison.Ordinal))
                .AddSource(OutboxDispatcher.ActivitySource.Name, "Npgsql"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddMeter(RegistrationMetrics.MeterName)
                .AddPrometheusExporter());
        return builder;
    }
}
