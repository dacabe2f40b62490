using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Registration.Api.Infrastructure;

/// <summary>
/// Turns what escapes a handler into a problem response with no stack trace or SQL text: overload and an
/// unreachable database are 503 <c>unavailable</c> (with Retry-After), a bad request the framework
/// detected is its 4xx, anything else a plain 500.
/// </summary>
public sealed partial class ProblemExceptionHandler(
    IProblemDetailsService problemDetails, RegistrationMetrics metrics, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, type, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, ProblemTypes.ForStatus(bad.StatusCode),
                bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : "The request is malformed."),
            ServiceBusyException => (StatusCodes.Status503ServiceUnavailable, ProblemTypes.Unavailable,
                "The service is busy. Try again shortly."),
            TooManyRequestsException tooMany => (StatusCodes.Status429TooManyRequests, tooMany.ProblemType, tooMany.Message),
            NpgsqlException or TimeoutException => (StatusCodes.Status503ServiceUnavailable, ProblemTypes.Unavailable,
                "The service is temporarily unavailable. Try again shortly."),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested =>
                (499, ProblemTypes.Unavailable, "The client closed the request."),
            _ => (StatusCodes.Status500InternalServerError, ProblemTypes.Unavailable, "An unexpected error occurred."),
        };

        switch (exception)
        {
            case ServiceBusyException:
                // Expected under a flood, possibly thousands a second: a counter and a terse line, no stack.
                metrics.RejectedBusy();
                LogBusy(logger, exception.Message);
                break;
            case NpgsqlException or TimeoutException:
                LogDatabaseUnavailable(logger, exception.GetType().Name, exception.Message);
                break;
            default:
                if (status >= 500)
                {
                    LogUnhandled(logger, status, exception);
                }

                break;
        }

        var retryAfter = exception switch
        {
            ServiceBusyException busy => busy.RetryAfter,
            TooManyRequestsException tooMany => tooMany.RetryAfter,
            _ when status == StatusCodes.Status503ServiceUnavailable => TimeSpan.FromSeconds(1),
            _ => (TimeSpan?)null,
        };
        if (retryAfter is { } wait)
        {
            httpContext.Response.Headers.RetryAfter = Problems.RetryAfterSeconds(wait).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        httpContext.Response.StatusCode = status;
        var problem = new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Type = type, Title = title },
        };
        if (!await problemDetails.TryWriteAsync(problem))
        {
            // The writer declines when the Accept header rules out JSON (e.g. text/html), which left an empty
            // body; the contract answers with a problem document whatever the client prefers.
            await TypedResults.Problem(problem.ProblemDetails).ExecuteAsync(httpContext);
        }

        return true;
    }

    [LoggerMessage(EventId = 1401, EventName = "RequestRejectedBusy", Level = LogLevel.Warning, Message = "Request rejected with 503: {Reason}")]
    private static partial void LogBusy(ILogger logger, string reason);

    [LoggerMessage(EventId = 1402, EventName = "DatabaseUnavailable", Level = LogLevel.Warning, Message = "Request answered 503, the database is unavailable: {ExceptionType}: {Reason}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, string exceptionType, string reason);

    [LoggerMessage(EventId = 1400, EventName = "RequestFailed", Level = LogLevel.Error, Message = "Request failed with {Status}")]
    private static partial void LogUnhandled(ILogger logger, int status, Exception exception);
}
