using Microsoft.Extensions.Options;
using Registration.Api.Activation;
using Registration.Api.Infrastructure;
using Registration.Api.Operators;
using Registration.Api.Users;
using Registration.Hosting;
using Scalar.AspNetCore;

namespace Registration.Api;

/// <summary>
/// Every route of the API, group by group. A route names its handler, a static class in the feature folder
/// of the same name (Users/, Activation/, Operators/) that holds the request, the SQL and the handling.
/// </summary>
public static class Routes
{
    public static WebApplication MapRoutes(this WebApplication app)
    {
        MapSelfService(app.MapGroup("/v1").WithTags("Users"));
        MapOperators(app.MapGroup("/v1").WithTags("Operators"));
        MapOperations(app);
        return app;
    }

    /// <summary>
    /// Sign-up, then the account that the Basic credentials name. Problems: see <see cref="OpenApiDescription"/>.
    /// No route is a group's own ("/" or "" after a group's prefix gives a pattern, and an http.route label of
    /// the metrics, with a trailing slash): each names its path after /v1 or /v1/users.
    /// </summary>
    private static void MapSelfService(RouteGroupBuilder v1)
    {
        v1.MapPost("/users", RegisterUser.HandleAsync)
            .WithName("RegisterUser")
            .WithSummary("Register a user")
            .WithDescription("Creates a pending user and emails it a 4-digit activation code, valid one minute. An address whose "
                + "pending account's code has expired is taken over (new id, password and code); otherwise a held address is 409.")
            .AcceptsJson<RegisterUserRequest>()
            .ProducesProblemTypes(StatusCodes.Status409Conflict, ProblemTypes.EmailTaken)
            .ProducesProblemTypes(StatusCodes.Status429TooManyRequests, ProblemTypes.TooManyRequests)
            .RequireRateLimiting(RequestProtection.RegistrationPolicy);

        // Every route here checks a password (bcrypt), throttled per (email, client) and per email: 429.
        var me = v1.MapGroup("/users")
            .RequireAuthorization(policy => policy.AddAuthenticationSchemes(BasicAuthentication.Scheme).RequireAuthenticatedUser())
            .ProducesProblemTypes(StatusCodes.Status429TooManyRequests, ProblemTypes.TooManyRequests)
            .AddEndpointFilter(async (context, next) =>
            {
                // Every 401 of these routes invites Basic credentials, including the rare one a handler
                // returns when the account vanished between authentication and its query.
                var result = await next(context);
                if (result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status401Unauthorized })
                {
                    context.HttpContext.Response.Headers.WWWAuthenticate = BasicAuthentication.Challenge;
                }

                return result;
            });

        me.MapGet("/me", GetCurrentUser.HandleAsync)
            .WithName("GetCurrentUser")
            .WithSummary("Read your account")
            .WithDescription("The account that the Basic credentials name, with `pendingEmail` while an email change waits for its code.")
            .RequireRateLimiting(RequestProtection.AccountPolicy);

        me.MapPatch("/me", UpdateCurrentUser.HandleAsync)
            .WithName("UpdateCurrentUser")
            .WithSummary("Update your account")
            .WithDescription("A new password (at once), a new email, or both. An active account keeps its address and stays active "
                + "until the change is confirmed with the code emailed to the new address (`pendingEmail` until then); a pending "
                + "account's address is replaced at once and a new activation code goes to it. A new email must be free.")
            .AcceptsJson<UpdateUserRequest>()
            .ProducesProblemTypes(StatusCodes.Status409Conflict, ProblemTypes.EmailTaken)
            .ProducesProblemTypes(StatusCodes.Status429TooManyRequests, ProblemTypes.ResendTooSoon, ProblemTypes.TooManyRequests)
            .RequireRateLimiting(RequestProtection.AccountPolicy);

        me.MapPost("/me/email-confirmation", ConfirmEmailChange.HandleAsync)
            .WithName("ConfirmEmailChange")
            .WithSummary("Confirm your email change")
            .WithDescription("Signed in with the current address, send the 4-digit code emailed to the new one: the account switches "
                + "to it and the old address gets a notice. Five wrong tries lock the code until the change is requested again.")
            .AcceptsJson<CodeRequest>()
            .ProducesProblemTypes(StatusCodes.Status409Conflict, ProblemTypes.NoPendingChange, ProblemTypes.EmailTaken)
            .ProducesCodeRefusals()
            .RequireRateLimiting(RequestProtection.AccountPolicy);

        me.MapDelete("/me", DeleteCurrentUser.HandleAsync)
            .WithName("DeleteCurrentUser")
            .WithSummary("Delete your account")
            .WithDescription("Deletes the account and its codes; the address is free again at once.")
            .RequireRateLimiting(RequestProtection.AccountPolicy);

        me.MapPost("/me/activation", ActivateAccount.HandleAsync)
            .WithName("ActivateAccount")
            .WithSummary("Activate your account")
            .WithDescription("Checks, in this order: credentials (401), body (400), already active (409), code locked (429), "
                + "code expired (410, whatever was sent), code wrong (422). Five wrong tries lock the code until a new one is requested.")
            .AcceptsJson<CodeRequest>()
            .ProducesProblemTypes(StatusCodes.Status409Conflict, ProblemTypes.AlreadyActive)
            .ProducesCodeRefusals()
            .RequireRateLimiting(RequestProtection.ActivationPolicy);

        me.MapPost("/me/activation-code", ResendActivationCode.HandleAsync)
            .WithName("ResendActivationCode")
            .WithSummary("Request a new activation code")
            .WithDescription("Emails a new code; the previous one stops working. At most one code per 30 s, counted from the last one issued.")
            .ProducesProblemTypes(StatusCodes.Status409Conflict, ProblemTypes.AlreadyActive)
            .ProducesProblemTypes(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge)
            .ProducesProblemTypes(StatusCodes.Status429TooManyRequests, ProblemTypes.ResendTooSoon, ProblemTypes.TooManyRequests)
            .RequireRateLimiting(RequestProtection.ResendPolicy);
    }

    /// <summary>
    /// The answers to a refused code (<see cref="CodeCheck.Refusal"/>), the same on both routes that take one: 410
    /// expired, 422 wrong, 429 locked (the code's wrong tries, or the address's wrong codes of the day).
    /// </summary>
    private static RouteHandlerBuilder ProducesCodeRefusals(this RouteHandlerBuilder route) => route
        .ProducesProblemTypes(StatusCodes.Status410Gone, ProblemTypes.ActivationCodeExpired)
        .ProducesProblemTypes(StatusCodes.Status422UnprocessableEntity, ProblemTypes.ActivationCodeInvalid)
        .ProducesProblemTypes(StatusCodes.Status429TooManyRequests, ProblemTypes.ActivationCodeLocked, ProblemTypes.TooManyRequests);

    /// <summary>Open only to <c>Authorization: Bearer {Admin:ApiKey}</c>.</summary>
    private static void MapOperators(RouteGroupBuilder v1)
    {
        var operators = v1
            .RequireAuthorization(AdminKeyAuthentication.Policy)
            .RequireRateLimiting(RequestProtection.OperatorPolicy)
            .ProducesProblemTypes(StatusCodes.Status429TooManyRequests, ProblemTypes.TooManyRequests);

        operators.MapGet("/users", ListUsers.HandleAsync)
            .WithName("ListUsers")
            .WithSummary("List users")
            .WithDescription("Oldest first, keyset-paged: pass a page's `next` as `after` for the next page.")
            .ProducesProblemTypes(StatusCodes.Status400BadRequest, ProblemTypes.ValidationFailed);

        operators.MapGet("/users/{id}", GetUser.HandleAsync)
            .WithName("GetUser")
            .WithSummary("Read a user")
            .WithDescription("Any user, by id.")
            .ProducesProblemTypes(StatusCodes.Status400BadRequest, ProblemTypes.ValidationFailed)
            .ProducesProblemTypes(StatusCodes.Status404NotFound, ProblemTypes.NotFound);

        operators.MapDelete("/users/{id}", DeleteUser.HandleAsync)
            .WithName("DeleteUser")
            .WithSummary("Delete a user")
            .WithDescription("Any user, by id, with its codes.")
            .ProducesProblemTypes(StatusCodes.Status400BadRequest, ProblemTypes.ValidationFailed)
            .ProducesProblemTypes(StatusCodes.Status404NotFound, ProblemTypes.NotFound);
    }

    /// <summary>Health, metrics and the API's own documentation.</summary>
    private static void MapOperations(WebApplication app)
    {
        app.MapHealthEndpoints();
        app.MapPrometheusScrapingEndpoint("/metrics");

        app.MapOpenApi();
        // Scalar serves its own bundled script; no web fonts, no telemetry: the docs work offline. Hidden: what
        // cannot work here (the AI chat and MCP, which call Scalar's servers; the developer toolbar's deploy,
        // share and SDK generation). The Basic credentials are pre-filled with the sample user of the
        // registration example, so "Register a user" then "Read your account" work as they are.
        app.MapScalarApiReference("/docs", options => options
            .WithTitle("Registration API")
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp()
            .HideDeveloperTools()
            .WithDefaultHttpClient(ScalarTarget.Shell, ScalarClient.Curl)
            .AddPreferredSecuritySchemes([BasicAuthentication.Scheme])
            .AddHttpAuthentication(BasicAuthentication.Scheme, basic =>
            {
                basic.Username = OpenApiDescription.ExampleEmail;
                basic.Password = OpenApiDescription.ExamplePassword;
            })
            // In Development only (./scripts/run.sh), the operator routes work at once too: the development key.
            // Elsewhere the key is a secret and never goes into a page.
            .AddHttpAuthentication(AdminKeyAuthentication.Scheme, bearer =>
                bearer.Token = app.Environment.IsDevelopment() ? app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey : null));
    }
}
