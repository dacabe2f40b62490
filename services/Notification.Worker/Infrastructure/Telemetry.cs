using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Notification.Worker.DeadLetters;
using OpenTelemetry.Metrics;
using Registration.Hosting;

namespace Notification.Worker.Infrastructure;

/// <summary>The worker's own metrics (Prometheus shows dots as underscores).</summary>
public sealed class NotificationMetrics : IDisposable
{
    public const string MeterName = "Notification.Worker";

    private readonly Meter _meter;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _superseded;
    private readonly Counter<long> _deferred;
    private readonly Histogram<double> _sendDuration;
    private long _deadLetters = -1;

    public NotificationMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _sent = _meter.CreateCounter<long>("notification.emails.sent", "{email}", "Emails accepted by the provider.");
        _failed = _meter.CreateCounter<long>("notification.emails.failed", "{email}", "Send attempts that failed, by kind: transient (retried) or permanent (dead-lettered).");
        _expired = _meter.CreateCounter<long>("notification.emails.expired_before_delivery", "{email}", "Codes that expired before they could be emailed (not sent; a fresh one is asked for).");
        _duplicates = _meter.CreateCounter<long>("notification.emails.duplicates_skipped", "{email}", "Redelivered messages already handled: nothing sent.");
        _superseded = _meter.CreateCounter<long>("notification.emails.superseded", "{email}", "Codes not sent because a newer code for the same user and address was already handled.");
        _deferred = _meter.CreateCounter<long>("notification.emails.deferred", "{email}", "Sends the provider asked to retry later than the HTTP retries wait: redelivered no sooner than asked.");
        _sendDuration = _meter.CreateHistogram<double>("notification.provider.duration", "s", "Time to get one email accepted by the provider, HTTP retries included.");
        _meter.CreateObservableGauge("notification.dead_letters", ObserveDeadLetters, "{message}", "Messages waiting in the error queue (activation-email_error).");
    }

    public void Sent(TimeSpan duration)
    {
        _sent.Add(1);
        _sendDuration.Record(duration.TotalSeconds);
    }

    public void Failed(bool permanent) => _failed.Add(1, new KeyValuePair<string, object?>("kind", permanent ? "permanent" : "transient"));

    public void ExpiredBeforeDelivery() => _expired.Add(1);

    public void DuplicateSkipped() => _duplicates.Add(1);

    public void Superseded() => _superseded.Add(1);

    public void Deferred() => _deferred.Add(1);

    public void DeadLetters(long count) => Interlocked.Exchange(ref _deadLetters, count);

    private IEnumerable<Measurement<long>> ObserveDeadLetters()
    {
        var count = Interlocked.Read(ref _deadLetters);
        return count < 0 ? [] : [new Measurement<long>(count)];
    }

    public void Dispose() => _meter.Dispose();
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
