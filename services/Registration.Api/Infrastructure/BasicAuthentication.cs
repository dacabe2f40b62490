using System.Buffers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Users;

namespace Registration.Api.Infrastructure;

public static class BasicAuthentication
{
    public const string Scheme = "Basic";
    public const string Realm = "registration";
    public const string Challenge = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";

    /// <summary>Longest Authorization header accepted; anything longer is rejected before decoding.</summary>
    public const int MaxHeaderLength = 2048;

    /// <summary>The authenticated user's id, set by <see cref="BasicAuthenticationHandler"/>.</summary>
    public static Guid GetUserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)
            ?? throw new InvalidOperationException("The request is not authenticated."));

    /// <summary>
    /// Parses an <c>Authorization</c> header value of the form <c>Basic base64(email:password)</c>.
    /// Returns false for anything malformed: missing, wrong scheme, not base64, not UTF-8, no colon,
    /// an empty part, or too long.
    /// </summary>
    public static bool TryParseCredentials(string? header, out string email, out string password)
    {
        email = password = string.Empty;
        if (string.IsNullOrEmpty(header) || header.Length > MaxHeaderLength)
        {
            return false;
        }

        const string prefix = "Basic ";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = header.AsSpan(prefix.Length).Trim();
        var buffer = ArrayPool<byte>.Shared.Rent(encoded.Length);
        try
        {
            if (!Convert.TryFromBase64Chars(encoded, buffer, out var length))
            {
                return false;
            }

            string decoded;
            try
            {
                decoded = StrictUtf8.GetString(buffer, 0, length);
            }
            catch (DecoderFallbackException)
            {
                return false;
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == decoded.Length - 1)
            {
                return false;
            }

            email = decoded[..colon].Trim();
            password = decoded[(colon + 1)..];
            return email.Length > 0;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>
/// HTTP Basic authentication against the users table. An unknown email and a wrong password take the
/// same path through bcrypt and give the same 401, so response time does not tell which it was.
/// </summary>
public sealed class BasicAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    NpgsqlDataSource dataSource,
    PasswordHasher hasher) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string FindUserSql = """
        SELECT id, password_hash FROM users WHERE lower(email) = lower(@Email)
        """;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue("Authorization", out var values))
        {
            return AuthenticateResult.NoResult();
        }

        if (values.Count != 1
            || !BasicAuthentication.TryParseCredentials(values[0], out var email, out var password)
            || !PasswordRules.IsAcceptable(password)
            || !EmailAddress.TryNormalize(email, out var normalizedEmail))
        {
            return AuthenticateResult.Fail("Malformed Basic credentials.");
        }

        // Past the bcrypt bulkhead, refuse before the database lookup: rejection must stay cheap.
        hasher.ThrowIfSaturated(ClientAddress.KeyOf(Context));

        StoredCredentials? user;
        await using (var connection = await dataSource.OpenConnectionAsync(Context.RequestAborted))
        {
            user = await connection.QuerySingleOrDefaultAsync<StoredCredentials>(
                new CommandDefinition(FindUserSql, new { Email = normalizedEmail }, cancellationToken: Context.RequestAborted));
        }

        // Verify even when the user is unknown (against a dummy hash): same cost, same answer.
        var verified = await hasher.VerifyAsync(password, user?.PasswordHash, ClientAddress.KeyOf(Context), Context.RequestAborted);
        if (!verified || user is null)
        {
            return AuthenticateResult.Fail("Invalid credentials.");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user.Id.ToString())], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    private sealed record StoredCredentials(Guid Id, string PasswordHash);

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = BasicAuthentication.Challenge;
        await Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            type: ProblemTypes.Unauthorized,
            title: "Valid Basic credentials (email:password) are required.").ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        await Results.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            type: ProblemTypes.Forbidden,
            title: "These credentials do not grant access to this resource.").ExecuteAsync(Context);
    }
}
