using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Registration.Api.Outbox;

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
        _meter.CreateObservableGauge("registration.outbox.lag", () => Volatile.Read(ref _outboxLagSeconds), "s",
            "Age of the oldest undispatched outbox message (0 when none).");
        _meter.CreateObservableGauge("registration.outbox.pending", () => Volatile.Read(ref _outboxPending), "{message}",
            "Outbox messages waiting to be published.");
    }

    public void UserRegistered() => _registrations.Add(1);

    public void ActivationAttempt(string outcome) => _activations.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void RejectedBusy() => _rejectedBusy.Add(1);

    public void OutboxPublished(int count) => _outboxPublished.Add(count);

    public void OutboxPublishFailed(int count) => _outboxFailed.Add(count);

    public void OutboxBacklog(long pending, TimeSpan oldestAge)
    {
        Volatile.Write(ref _outboxPending, pending);
        Volatile.Write(ref _outboxLagSeconds, Math.Max(0, oldestAge.TotalSeconds));
    }

    public void Dispose() => _meter.Dispose();
}

public static class Telemetry
{
    public const string ServiceName = "registration-api";

    /// <summary>
    /// Traces (HTTP in, SQL, outbox publish, MassTransit) and metrics. OTLP export when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set; Prometheus text at /metrics always; nothing on the console.
    /// JSON logs with the trace id when Logging:Format is "json" (the container default).
    /// </summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RegistrationMetrics>();

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => !context.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal)
                        && !context.Request.Path.StartsWithSegments("/metrics", StringComparison.Ordinal))
                .AddHttpClientInstrumentation()
                .AddSource(OutboxDispatcher.ActivitySource.Name, "MassTransit", "Npgsql"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(RegistrationMetrics.MeterName, "MassTransit")
                .AddPrometheusExporter());
        if (otlp)
        {
            telemetry.UseOtlpExporter();
        }

        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
            builder.Logging.Configure(options =>
                options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        }

        return builder;
    }
}
