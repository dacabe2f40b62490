using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Registration.Api.Infrastructure;

/// <summary>
/// Declares the two security schemes (Basic for users, Bearer for operators) in the OpenAPI document and
/// marks each operation with the one its endpoint requires.
/// </summary>
public static class OpenApiSecurity
{
    public static OpenApiOptions AddSecuritySchemes(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Registration API";
            document.Info.Description = "Sign up with email and password, activate with the 4-digit code sent by email.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BasicAuthentication.Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "The user's email and password.",
            };
            document.Components.SecuritySchemes[AdminKeyAuthentication.Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The operator key (Admin:ApiKey).",
            };
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            var authorize = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().ToList();
            if (authorize.Count == 0)
            {
                return Task.CompletedTask;
            }

            var scheme = authorize.Any(data => data.Policy == AdminKeyAuthentication.Policy)
                ? AdminKeyAuthentication.Scheme
                : BasicAuthentication.Scheme;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [],
            });
            return Task.CompletedTask;
        });

        return options;
    }
}
