extern alias Api;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notification.Worker.Infrastructure;
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
