using System.Globalization;
using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Registration.Api.Infrastructure;

/// <summary>
/// Turns what escapes a handler into a problem response with no stack trace or SQL text: overload and a
/// database that cannot answer right now are 503 <c>unavailable</c> (with Retry-After), a bad request the
/// framework detected is its 4xx, and anything else (a bad query, an encoding the database refuses, a bug)
/// is a defect: a 500 <c>internal</c> whose cause is logged, never told.
/// </summary>
public sealed partial class ProblemExceptionHandler(
    IProblemDetailsService problemDetails, RegistrationMetrics metrics, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(exception);
        var (status, type, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, ProblemTypes.ForStatus(bad.StatusCode), ProblemTypes.TitleForStatus(bad.StatusCode)),
            ServiceBusyException => (StatusCodes.Status503ServiceUnavailable, ProblemTypes.Unavailable,
                "The service is busy. Try again shortly."),
            TooManyRequestsException tooMany => (StatusCodes.Status429TooManyRequests, tooMany.ProblemType, tooMany.Message),
            _ when IsTransientDatabaseFailure(exception) => (StatusCodes.Status503ServiceUnavailable, ProblemTypes.Unavailable,
                "The service is temporarily unavailable. Try again shortly."),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested =>
                (499, ProblemTypes.Unavailable, "The client closed the request."),
            _ => (StatusCodes.Status500InternalServerError, ProblemTypes.Internal,
                "An unexpected error occurred. It has been logged; quote the traceId when reporting it."),
        };

        switch (exception)
        {
            case ServiceBusyException:
                // Expected under a flood, possibly thousands a second: a counter and a terse line, no stack.
                metrics.RejectedBusy();
                LogBusy(logger, exception.Message);
                break;
            case BadHttpRequestException or TooManyRequestsException:
                break;
            case var _ when status == StatusCodes.Status503ServiceUnavailable:
                LogDatabaseUnavailable(logger, exception.GetType().Name, exception.Message);
                break;
            case var _ when status >= StatusCodes.Status500InternalServerError:
                // A defect: the whole exception goes to the log (the body says nothing of it).
                LogDefect(logger, httpContext.Request.Method, httpContext.GetEndpoint()?.DisplayName ?? httpContext.Request.Path.Value, exception);
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
            httpContext.Response.Headers.RetryAfter = Problems.RetryAfterSeconds(wait).ToString(CultureInfo.InvariantCulture);
        }

        httpContext.Response.StatusCode = status;
        var detail = status == StatusCodes.Status413PayloadTooLarge && httpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } max
            ? $"The request body must be at most {max} bytes."
            : null;
        // No Exception in the context: nothing of it may reach the body, and it is logged above.
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = { Status = status, Type = type, Title = title, Detail = detail },
        });
        return true;
    }

    /// <summary>
    /// The database could not answer now but may in a moment: it is unreachable, the connection broke or timed
    /// out, it is shutting down or starting, it has no connection slot or resource left, or the transaction
    /// lost a race (serialization failure, deadlock, lock timeout). Anything else it refuses is a defect of
    /// ours: a query it rejects, data it cannot store (an encoding error on a SQL_ASCII database), a constraint.
    /// </summary>
    public static bool IsTransientDatabaseFailure(Exception exception) => exception switch
    {
        TimeoutException => true,
        PostgresException postgres => postgres.IsTransient || IsTransientSqlState(postgres.SqlState),
        NpgsqlException npgsql => npgsql.IsTransient
            || npgsql.InnerException is SocketException or IOException or TimeoutException or EndOfStreamException
            || (npgsql.InnerException is { } inner && IsTransientDatabaseFailure(inner)),
        _ => false,
    };

    private static bool IsTransientSqlState(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
        || sqlState.StartsWith("53", StringComparison.Ordinal) // insufficient resources (too many connections, ...)
        || sqlState.StartsWith("57P", StringComparison.Ordinal) // admin/crash shutdown, cannot connect now
        || sqlState is PostgresErrorCodes.SerializationFailure
            or PostgresErrorCodes.DeadlockDetected
            or PostgresErrorCodes.LockNotAvailable
            or PostgresErrorCodes.QueryCanceled // statement_timeout
            or PostgresErrorCodes.TransactionResolutionUnknown;

    [LoggerMessage(EventId = 1401, EventName = "RequestRejectedBusy", Level = LogLevel.Warning, Message = "Request rejected with 503: {Reason}")]
    private static partial void LogBusy(ILogger logger, string reason);

    [LoggerMessage(EventId = 1402, EventName = "DatabaseUnavailable", Level = LogLevel.Warning, Message = "Request answered 503, the database is unavailable: {ExceptionType}: {Reason}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, string exceptionType, string reason);

    [LoggerMessage(EventId = 1400, EventName = "RequestFailed", Level = LogLevel.Error, Message = "Request {Method} {Endpoint} failed with a defect, answered 500")]
    private static partial void LogDefect(ILogger logger, string method, string? endpoint, Exception exception);
}
