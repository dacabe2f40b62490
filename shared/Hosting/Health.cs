using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Registration.Hosting;

/// <summary>
/// <c>/health/live</c> and <c>/health/ready</c> as both services serve them: live answers 200 while the process
/// runs; ready runs the checks tagged <see cref="ReadyTag"/> (PostgreSQL here, the bus from MassTransit) and
/// answers 503 unless every one is healthy. Answers are JSON; a 503 is a problem of type
/// <see cref="UnavailableProblemType"/>.
/// </summary>
public static class Health
{
    /// <summary>The tag of the checks that decide readiness; MassTransit tags its bus check with it too.</summary>
    public const string ReadyTag = "ready";

    public const string UnavailableProblemType = "/problems/unavailable";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The health checks, with PostgreSQL (the registered <c>NpgsqlDataSource</c>) among those of readiness.</summary>
    public static IHealthChecksBuilder AddReadinessChecks(this IServiceCollection services) =>
        services.AddHealthChecks().AddNpgSql(name: "postgres", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3));

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteAsync,
            // MassTransit reports a bus that lost the broker as Degraded: not ready either.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        return endpoints;
    }

    /// <summary>Each check's status and duration; never an exception's text (it may name hosts or users).</summary>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        var checks = report.Entries.ToDictionary(
            entry => entry.Key,
            entry => new { status = entry.Value.Status.ToString(), durationMs = (int)entry.Value.Duration.TotalMilliseconds });

        if (context.Response.StatusCode >= StatusCodes.Status500InternalServerError)
        {
            context.Response.ContentType = "application/problem+json";
            return context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                type = UnavailableProblemType,
                title = "A dependency is not answering.",
                status = StatusCodes.Status503ServiceUnavailable,
                checks,
                traceId = Activity.Current?.Id ?? context.TraceIdentifier,
            }, Json));
        }

        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { status = report.Status.ToString(), checks }, Json));
    }
}
