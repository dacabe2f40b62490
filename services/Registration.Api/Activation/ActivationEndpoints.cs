using Registration.Api.Infrastructure;

namespace Registration.Api.Activation;

public static class ActivationEndpoints
{
    /// <summary>Maps activation under the authenticated <c>/v1/users/me</c> group.</summary>
    public static RouteGroupBuilder MapActivationEndpoints(this RouteGroupBuilder me)
    {
        me.MapPost("/activation", ActivateAccount.HandleAsync)
            .WithName("ActivateAccount")
            .WithSummary("Activate your account with the 4-digit code from the email.")
            .Accepts<ActivateAccountRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(RequestProtection.ActivationPolicy);

        me.MapPost("/activation-code", ResendActivationCode.HandleAsync)
            .WithName("ResendActivationCode")
            .WithSummary("Ask for a new activation code (the previous one stops working).")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(RequestProtection.ResendPolicy);

        return me;
    }
}
