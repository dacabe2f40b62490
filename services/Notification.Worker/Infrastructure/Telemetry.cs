using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Notification.Worker.DeadLetters;
using OpenTelemetry.Metrics;
using Registration.Hosting;

namespace Notification.Worker.Infrastructure;

/// <summary>
/// The worker's own metrics (Prometheus shows dots as underscores). The outcome counters are observed rather
/// than pushed, so every series exists from the first scrape, at 0: a rate over a series that only appears
/// with its first event cannot count that event, and an alert on "failed > 0" needs a series to compare.
/// </summary>
public sealed class NotificationMetrics : IDisposable
{
    public const string MeterName = "Notification.Worker";

    private static readonly KeyValuePair<string, object?> Transient = new("kind", "transient");
    private static readonly KeyValuePair<string, object?> Permanent = new("kind", "permanent");

    private readonly Meter _meter;
    private readonly Histogram<double> _sendDuration;
    private long _sent;
    private long _failedTransient;
    private long _failedPermanent;
    private long _expired;
    private long _duplicates;
    private long _superseded;
    private long _deferred;
    private long _deadLetters = -1;

    public NotificationMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        Counter("notification.emails.sent", () => Volatile.Read(ref _sent), "Emails accepted by the provider.");
        _meter.CreateObservableCounter(
            "notification.emails.failed",
            () => (Measurement<long>[])[new(Volatile.Read(ref _failedTransient), Transient), new(Volatile.Read(ref _failedPermanent), Permanent)],
            "{email}",
            "Send attempts that failed, by kind: transient (retried) or permanent (dead-lettered).");
        Counter("notification.emails.expired_before_delivery", () => Volatile.Read(ref _expired), "Codes that expired before they could be emailed (not sent; a fresh one is asked for).");
        Counter("notification.emails.duplicates_skipped", () => Volatile.Read(ref _duplicates), "Redelivered messages already handled: nothing sent.");
        Counter("notification.emails.superseded", () => Volatile.Read(ref _superseded), "Codes not sent because a newer code for the same user and address was already handled.");
        Counter("notification.emails.deferred", () => Volatile.Read(ref _deferred), "Sends the provider asked to retry later than the HTTP retries wait: redelivered no sooner than asked.");
        _sendDuration = _meter.CreateHistogram<double>("notification.provider.duration", "s", "Time to get one email accepted by the provider, HTTP retries included.");
        _meter.CreateObservableGauge("notification.dead_letters", ObserveDeadLetters, "{message}", "Messages waiting in the error queue (activation-email_error).");
    }

    public void Sent(TimeSpan duration)
    {
        Interlocked.Increment(ref _sent);
        _sendDuration.Record(duration.TotalSeconds);
    }

    public void Failed(bool permanent) => Interlocked.Increment(ref permanent ? ref _failedPermanent : ref _failedTransient);

    public void ExpiredBeforeDelivery() => Interlocked.Increment(ref _expired);

    public void DuplicateSkipped() => Interlocked.Increment(ref _duplicates);

    public void Superseded() => Interlocked.Increment(ref _superseded);

    public void Deferred() => Interlocked.Increment(ref _deferred);

    public void DeadLetters(long count) => Interlocked.Exchange(ref _deadLetters, count);

    public void Dispose() => _meter.Dispose();

    private void Counter(string name, Func<long> value, string description) =>
        _meter.CreateObservableCounter(name, () => value(), "{email}", description);

    private IEnumerable<Measurement<long>> ObserveDeadLetters()
    {
        var count = Interlocked.Read(ref _deadLetters);
        return count < 0 ? [] : [new Measurement<long>(count)];
    }
}

public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>Port of <c>/health/live</c>, <c>/health/ready</c> and <c>/metrics</c> (all interfaces); 0 turns them off.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8081;

    /// <summary>How often the dead-letter depth is read from the broker.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan DeadLetterPollInterval { get; set; } = TimeSpan.FromSeconds(30);
}

public static class Telemetry
{
    public const string ServiceName = "notification-worker";

    /// <summary>
    /// The shared telemetry (<see cref="ServiceDefaults.AddTelemetryDefaults"/>: MassTransit consume →
    /// provider HTTP call, continuing the API's trace through the message headers) plus the worker's meter,
    /// the dead-letter depth probe, the health checks, and, unless Telemetry:Port is 0, the endpoints that
    /// serve them (<see cref="TelemetryServer"/>).
    /// </summary>
    public static IHostApplicationBuilder AddWorkerTelemetry(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<NotificationMetrics>();
        services.AddHostedService<DeadLetterDepthProbe>();
        services.AddReadinessChecks();

        var port = builder.Configuration.GetSection(TelemetryOptions.SectionName).GetValue(nameof(TelemetryOptions.Port), new TelemetryOptions().Port);
        builder.AddTelemetryDefaults(ServiceName).WithMetrics(metrics =>
        {
            metrics.AddMeter(NotificationMetrics.MeterName);
            if (port > 0)
            {
                metrics.AddPrometheusExporter();
            }
        });
        if (port > 0)
        {
            // Before the bus: liveness answers while the worker still waits for the broker.
            services.AddHostedService<TelemetryServer>();
        }

        return builder;
    }
}
