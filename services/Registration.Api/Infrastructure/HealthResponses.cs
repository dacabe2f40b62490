using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Registration.Api.Infrastructure;

/// <summary>Health answers as JSON; an unhealthy one is a 503 problem of type <c>unavailable</c>.</summary>
public static class HealthResponses
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var checks = report.Entries.ToDictionary(
            entry => entry.Key,
            entry => new { status = entry.Value.Status.ToString(), durationMs = (int)entry.Value.Duration.TotalMilliseconds });

        if (context.Response.StatusCode >= StatusCodes.Status500InternalServerError)
        {
            context.Response.ContentType = "application/problem+json";
            return context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                type = ProblemTypes.Unavailable,
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
