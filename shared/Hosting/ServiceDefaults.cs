using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Registration.Hosting;

/// <summary>What both services share: console logging, OpenTelemetry, the OTLP export switch.</summary>
public static class ServiceDefaults
{
    /// <summary>
    /// The built-in console logger, one line per event with a UTC timestamp. Configuration still decides
    /// (these are defaults under every other source): <c>Logging:Console:FormatterName</c> = <c>json</c> for
    /// one JSON object per line with the trace id (the container setting), <c>simple</c> otherwise.
    /// </summary>
    public static IHostApplicationBuilder AddConsoleLoggingDefaults(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:Console:FormatterName"] = ConsoleFormatterNames.Simple,
                ["Logging:Console:FormatterOptions:SingleLine"] = "true",
                ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
                ["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ ",
            },
        });

        // JSON lines carry the trace and span ids (a scope) and a timestamp without the text mode's separator.
        builder.Services.Configure<JsonConsoleFormatterOptions>(options =>
        {
            options.IncludeScopes = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Logging.Configure(options =>
            options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        return builder;
    }

    /// <summary>
    /// Traces and metrics under <paramref name="serviceName"/> unless <c>OTEL_SERVICE_NAME</c> (or
    /// <c>service.name</c> in <c>OTEL_RESOURCE_ATTRIBUTES</c>) names the service otherwise; MassTransit and
    /// outgoing HTTP instrumented; exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// The service adds its own sources, meters and exporters to the returned builder.
    /// </summary>
    public static OpenTelemetryBuilder AddTelemetryDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var telemetry = builder.Services.AddOpenTelemetry()
            // The environment detector again after AddService: the standard variables win over our default.
            .ConfigureResource(resource => resource.AddService(serviceName).AddEnvironmentVariableDetector())
            .WithTracing(tracing => tracing
                .AddSource("MassTransit")
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter("MassTransit")
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        return telemetry;
    }
}
