using System.Diagnostics;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Registration.Api.Infrastructure;

/// <summary>
/// Writes every problem document of the API, whoever makes it (a handler, authentication, the rate limiter,
/// status code pages, the exception handler): <c>application/problem+json</c> whatever the client's Accept
/// header says (the framework's writer declines <c>text/html</c> and leaves an empty body), the contract's
/// relative <c>type</c> for a framework-made status, and a <c>traceId</c> that finds the request's log lines.
/// </summary>
public sealed class ProblemJsonWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public const string ContentType = "application/problem+json";

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var httpContext = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= httpContext.Response.StatusCode;
        if (problem.Type is null || problem.Type.StartsWith("https://", StringComparison.Ordinal))
        {
            problem.Type = ProblemTypes.ForStatus(problem.Status.Value);
        }

        problem.Title ??= ProblemTypes.TitleForStatus(problem.Status.Value);
        problem.Extensions["traceId"] = Activity.Current?.Id ?? httpContext.TraceIdentifier;
        return new ValueTask(httpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, ContentType));
    }
}
