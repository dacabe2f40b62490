using Registration.Api.Infrastructure;
using Registration.Api.Users;

namespace Registration.Api.Operators;

/// <summary>Operator routes, open only to <c>Authorization: Bearer {Admin:ApiKey}</c>.</summary>
public static class OperatorEndpoints
{
    public static RouteGroupBuilder MapOperatorEndpoints(this IEndpointRouteBuilder routes)
    {
        var operators = routes.MapGroup("/v1/users").WithTags("Operators")
            .RequireAuthorization(AdminKeyAuthentication.Policy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        operators.MapGet("/", ListUsers.HandleAsync)
            .WithName("ListUsers")
            .WithSummary("List users, oldest first, keyset-paged: pass 'next' as 'after' for the next page.")
            .ProducesValidationProblem();

        operators.MapGet("/{id}", GetUser.HandleAsync)
            .WithName("GetUser")
            .WithSummary("Read any user by id.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        operators.MapDelete("/{id}", DeleteUser.HandleByOperatorAsync)
            .WithName("DeleteUser")
            .WithSummary("Delete any user by id.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        return operators;
    }
}
