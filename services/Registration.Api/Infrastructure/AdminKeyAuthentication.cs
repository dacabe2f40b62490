using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Registration.Api.Infrastructure;

public static class AdminKeyAuthentication
{
    public const string Scheme = "AdminKey";
    public const string Policy = "Operator";
    public const string OperatorRole = "operator";
    public const string Challenge = "Bearer realm=\"registration-operators\"";
}

/// <summary>
/// <c>Authorization: Bearer {Admin:ApiKey}</c> for the operator routes. The key is compared in constant
/// time. With no key configured the operator API is closed: every request is answered 403, never let in.
/// </summary>
public sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AdminOptions> admin) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private bool IsConfigured => !string.IsNullOrEmpty(admin.CurrentValue.ApiKey);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!IsConfigured)
        {
            return Task.FromResult(AuthenticateResult.Fail("The operator API is disabled: Admin:ApiKey is not set."));
        }

        var header = Request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || header.Length > 1024)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var presented = Encoding.UTF8.GetBytes(header[prefix.Length..].Trim());
        var expected = Encoding.UTF8.GetBytes(admin.CurrentValue.ApiKey!);
        if (!CryptographicOperations.FixedTimeEquals(presented, expected))
        {
            return Task.FromResult(AuthenticateResult.Fail("Invalid operator key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, AdminKeyAuthentication.OperatorRole)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (!IsConfigured)
        {
            await HandleForbiddenAsync(properties);
            return;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = AdminKeyAuthentication.Challenge;
        await Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            type: ProblemTypes.Unauthorized,
            title: "A valid operator key is required (Authorization: Bearer <key>).").ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Results.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            type: ProblemTypes.Forbidden,
            title: IsConfigured ? "These credentials do not grant operator access." : "The operator API is disabled.").ExecuteAsync(Context);
    }
}
