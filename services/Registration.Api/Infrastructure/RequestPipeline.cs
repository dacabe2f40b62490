namespace Registration.Api.Infrastructure;

public static class RequestPipeline
{
    /// <summary>The middleware every request goes through, in order, before it reaches a route of <see cref="Routes"/>.</summary>
    public static WebApplication UseRequestPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Framework-made errors (404 route, 405 with its Allow header) as problem documents, written by
        // ProblemJsonWriter whatever the Accept header (the default UseStatusCodePages() would answer text/plain).
        app.UseStatusCodePages(context =>
        {
            var response = context.HttpContext.Response;
            var status = response.StatusCode;
            var detail = status == StatusCodes.Status405MethodNotAllowed && response.Headers.Allow.Count > 0
                ? $"Allowed: {response.Headers.Allow}."
                : null;
            return TypedResults.Problem(
                statusCode: status, type: ProblemTypes.ForStatus(status), title: ProblemTypes.TitleForStatus(status), detail: detail)
                .ExecuteAsync(context.HttpContext);
        });
        app.UseRequestProtection();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}
