namespace Registration.Api.Infrastructure;

public static class RequestPipeline
{
    /// <summary>The middleware every request goes through, in order, before it reaches a route of <see cref="Routes"/>.</summary>
    public static WebApplication UseRequestPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Framework-made errors (404 route, 405, 415) as problem documents. Not the default UseStatusCodePages():
        // it answers text/plain when the Accept header rules out JSON; a ProblemHttpResult writes JSON regardless.
        app.UseStatusCodePages(context =>
        {
            var status = context.HttpContext.Response.StatusCode;
            return TypedResults.Problem(statusCode: status, type: ProblemTypes.ForStatus(status)).ExecuteAsync(context.HttpContext);
        });
        app.UseRequestProtection();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}
