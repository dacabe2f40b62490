extern alias Api;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notification.Worker.Infrastructure;
using ApiMetrics = Api::Registration.Api.Infrastructure.RegistrationMetrics;
using ApiRoutes = Api::Registration.Api.Routes;
using ApiServices = Api::Registration.Api.Infrastructure.ApplicationServices;

namespace Registration.Testing.Deployment;

/// <summary>
/// A service built as its Program.cs builds it, with a deployment's environment as configuration, and never
/// started (no database or broker needed): what the deployment files must agree with, read from the code
/// rather than restated (the routes a probe may ask, how long a stop may take).
/// </summary>
public static class ServiceBuild
{
    /// <summary>The API's route patterns (<c>/health/live</c>, <c>/v1/users/{id}</c>, ...) and how long it may take to stop.</summary>
    public static (IReadOnlyList<string> Routes, StopTimeouts Stop) Api(IReadOnlyDictionary<string, string> environment)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        Use(builder.Configuration, environment);
        ApiServices.AddApplicationServices(builder);
        var app = builder.Build();
        try
        {
            ApiRoutes.MapRoutes(app);
            var routes = ((IEndpointRouteBuilder)app).DataSources
                .SelectMany(source => source.Endpoints)
                .OfType<RouteEndpoint>()
                .Select(endpoint => "/" + endpoint.RoutePattern.RawText!.TrimStart('/'))
                .Distinct()
                .ToArray();
            return (routes, StopOf(app.Services, consumers: null));
        }
        finally
        {
            ((IDisposable)app).Dispose();
        }
    }

    /// <summary>How long the worker may take to stop, its in-flight sends included.</summary>
    public static StopTimeouts Worker(IReadOnlyDictionary<string, string> environment)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Production" });
        Use(builder.Configuration, environment);
        builder.AddNotificationWorker();
        using var host = builder.Build();
        return StopOf(host.Services, host.Services.GetRequiredService<IOptions<ConsumerOptions>>().Value.StopTimeout);
    }

    /// <summary>The metric instruments the services' own meters create (the API's and the worker's), as a listener sees them published.</summary>
    public static IReadOnlyList<MetricInstrument> Instruments(IReadOnlyDictionary<string, string> apiEnvironment, IReadOnlyDictionary<string, string> workerEnvironment)
    {
        var instruments = new ConcurrentBag<MetricInstrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name is ApiMetrics.MeterName or NotificationMetrics.MeterName)
                {
                    instruments.Add(MetricInstrument.Of(instrument));
                }
            },
        };
        listener.Start();

        var api = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        Use(api.Configuration, apiEnvironment);
        ApiServices.AddApplicationServices(api);
        using (var app = api.Build())
        {
            _ = app.Services.GetRequiredService<ApiMetrics>();
        }

        var worker = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Production" });
        Use(worker.Configuration, workerEnvironment);
        worker.AddNotificationWorker();
        using (var host = worker.Build())
        {
            _ = host.Services.GetRequiredService<NotificationMetrics>();
        }

        return [.. instruments.DistinctBy(instrument => instrument.Name)];
    }

    private static void Use(IConfigurationBuilder configuration, IReadOnlyDictionary<string, string> environment) =>
        configuration.AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(ServiceConfiguration.KeyOf(e.Key), e.Value)));

    private static StopTimeouts StopOf(IServiceProvider services, TimeSpan? consumers) => new(
        services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout,
        services.GetRequiredService<IOptions<MassTransitHostOptions>>().Value.StopTimeout ?? TimeSpan.Zero,
        consumers);
}

/// <summary>What bounds a service's stop: the host's shutdown timeout, MassTransit's stop, and the worker's in-flight sends.</summary>
public sealed record StopTimeouts(TimeSpan HostShutdown, TimeSpan BusStop, TimeSpan? ConsumerStop)
{
    /// <summary>The longest a stop can take: the host cancels whatever outlasts its shutdown timeout.</summary>
    public TimeSpan Longest => new[] { HostShutdown, BusStop, ConsumerStop ?? TimeSpan.Zero }.Max();
}

/// <summary>One metric instrument: its OpenTelemetry name, unit and kind, and the names Prometheus shows it under.</summary>
public sealed record MetricInstrument(string Name, string? Unit, string Kind)
{
    /// <summary>
    /// As OpenTelemetry's Prometheus exporter writes them: dots to underscores, the unit as a suffix (<c>s</c> as
    /// <c>_seconds</c>; annotations in braces dropped), <c>_total</c> for a counter, <c>_bucket</c>/<c>_sum</c>/<c>_count</c>
    /// for a histogram.
    /// </summary>
    public IReadOnlyList<string> PrometheusNames
    {
        get
        {
            var name = Name.Replace('.', '_');
            var unit = Unit switch
            {
                null or "" => null,
                "s" => "seconds",
                "ms" => "milliseconds",
                "By" => "bytes",
                _ when Unit.StartsWith('{') => null,
                _ => Unit,
            };
            if (unit is not null && !name.EndsWith("_" + unit, StringComparison.Ordinal))
            {
                name += "_" + unit;
            }

            return Kind switch
            {
                "Counter" => [name + "_total"],
                "Histogram" => [name + "_bucket", name + "_sum", name + "_count"],
                _ => [name],
            };
        }
    }

    internal static MetricInstrument Of(Instrument instrument)
    {
        var type = instrument.GetType();
        var kind = type.Name.Split('`')[0] switch
        {
            "Counter" or "ObservableCounter" => "Counter",
            "Histogram" => "Histogram",
            _ => "Gauge",
        };
        return new MetricInstrument(instrument.Name, instrument.Unit, kind);
    }
}
