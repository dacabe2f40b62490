using Registration.Api.Activation;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

/// <summary>The self-service routes: sign-up, and the account of whoever the Basic credentials name.</summary>
public static class UserEndpoints
{
    public static RouteGroupBuilder MapUserEndpoints(this IEndpointRouteBuilder routes)
    {
        var users = routes.MapGroup("/v1/users").WithTags("Users");

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

        var me = users.MapGroup("/me")
            .RequireAuthorization(policy => policy.AddAuthenticationSchemes(BasicAuthentication.Scheme).RequireAuthenticatedUser())
            .ProducesProblem(StatusCodes.Status401Unauthorized)
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
            .WithSummary("Read your own account.");

        me.MapPatch("/", UpdateCurrentUser.HandleAsync)
            .WithName("UpdateCurrentUser")
            .WithSummary("Change your password and/or email; a new email must be activated again.")
            .Accepts<UpdateUserRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        me.MapDelete("/", DeleteUser.HandleSelfAsync)
            .WithName("DeleteCurrentUser")
            .WithSummary("Delete your account; the email becomes free again.");

        me.MapActivationEndpoints();
        return users;
    }
}
