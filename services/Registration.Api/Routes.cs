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
        MapSelfService(app.MapGroup("/v1/users").WithTags("Users"));
        MapOperators(app.MapGroup("/v1/users").WithTags("Operators"));
        MapOperations(app);
        return app;
    }

    /// <summary>Sign-up, then the account that the Basic credentials name.</summary>
    private static void MapSelfService(RouteGroupBuilder users)
    {
        users.MapPost("/", RegisterUser.HandleAsync)
            .WithName("RegisterUser")
            .WithSummary("Create a pending user and email it an activation code.")
            .Accepts<RegisterUserRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireRateLimiting(RequestProtection.RegistrationPolicy);

        // Every route here checks a password (bcrypt), throttled per (email, client) and per email: 429.
        var me = users.MapGroup("/me")
            .RequireAuthorization(policy => policy.AddAuthenticationSchemes(BasicAuthentication.Scheme).RequireAuthenticatedUser())
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
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

        me.MapGet("/", GetCurrentUser.HandleAsync)
            .WithName("GetCurrentUser")
            .WithSummary("Read your own account.")
            .RequireRateLimiting(RequestProtection.AccountPolicy);

        me.MapPatch("/", UpdateCurrentUser.HandleAsync)
            .WithName("UpdateCurrentUser")
            .WithSummary("Change your password (at once) and/or email: an active account keeps its address until the change is confirmed "
                + "with the code emailed to the new one (pendingEmail); a pending account's address is replaced at once.")
            .Accepts<UpdateUserRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireRateLimiting(RequestProtection.AccountPolicy);

        me.MapPost("/email-confirmation", ConfirmEmailChange.HandleAsync)
            .WithName("ConfirmEmailChange")
            .WithSummary("Confirm your pending email change with the 4-digit code emailed to the new address; the old one gets a notice.")
            .AcceptsACode()
            .RequireRateLimiting(RequestProtection.AccountPolicy);

        me.MapDelete("/", DeleteCurrentUser.HandleAsync)
            .WithName("DeleteCurrentUser")
            .WithSummary("Delete your account; the email becomes free again.")
            .RequireRateLimiting(RequestProtection.AccountPolicy);

        me.MapPost("/activation", ActivateAccount.HandleAsync)
            .WithName("ActivateAccount")
            .WithSummary("Activate your account with the 4-digit code from the email.")
            .AcceptsACode()
            .RequireRateLimiting(RequestProtection.ActivationPolicy);

        me.MapPost("/activation-code", ResendActivationCode.HandleAsync)
            .WithName("ResendActivationCode")
            .WithSummary("Ask for a new activation code (the previous one stops working).")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireRateLimiting(RequestProtection.ResendPolicy);
    }

    /// <summary>
    /// A route that takes <c>{"code":"0427"}</c> (<see cref="CodeVerifier"/>): 400 not 4 digits, 409, 410 expired, 413,
    /// 415, 422 wrong (429 locked comes with the group).
    /// </summary>
    private static RouteHandlerBuilder AcceptsACode(this RouteHandlerBuilder route) => route
        .Accepts<CodeRequest>("application/json")
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status410Gone)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

    /// <summary>Open only to <c>Authorization: Bearer {Admin:ApiKey}</c>.</summary>
    private static void MapOperators(RouteGroupBuilder operators)
    {
        operators
            .RequireAuthorization(AdminKeyAuthentication.Policy)
            .RequireRateLimiting(RequestProtection.OperatorPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        operators.MapGet("/", ListUsers.HandleAsync)
            .WithName("ListUsers")
            .WithSummary("List users, oldest first, keyset-paged: pass 'next' as 'after' for the next page.")
            .ProducesValidationProblem();

        operators.MapGet("/{id}", GetUser.HandleAsync)
            .WithName("GetUser")
            .WithSummary("Read any user by id.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        operators.MapDelete("/{id}", DeleteUser.HandleAsync)
            .WithName("DeleteUser")
            .WithSummary("Delete any user by id.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>Health, metrics and the API's own documentation.</summary>
    private static void MapOperations(WebApplication app)
    {
        app.MapHealthEndpoints();
        app.MapPrometheusScrapingEndpoint("/metrics");

        app.MapOpenApi();
        // Scalar serves its own bundled script; no web fonts, no telemetry: the docs work offline.
        app.MapScalarApiReference("/docs", options => options.WithTitle("Registration API").DisableDefaultFonts().DisableTelemetry());
    }
}
