using System.Buffers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
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
/// HTTP Basic authentication against the users table, throttled (<see cref="SignInThrottle"/>): a client
/// blocked for this email, or an email past its failures of the hour, is answered 429 before bcrypt runs. An
/// unknown email and a wrong password take the same path — the same statements, one bcrypt run (against a
/// dummy hash when no account has the email), the same failure counted — and give the same 401, so neither
/// the answer, its headers nor its time tells which it was.
/// </summary>
public sealed class BasicAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    SignInThrottle throttle,
    PasswordHasher hasher,
    RegistrationMetrics metrics) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue("Authorization", out var values))
        {
            return AuthenticateResult.NoResult();
        }

        // Not the email rules of registration: an account registered under older rules must still sign in
        // (and change its address). Any text has a key; the throttle counts what was sent.
        if (values.Count != 1
            || !BasicAuthentication.TryParseCredentials(values[0], out var email, out var password)
            || !PasswordRules.IsAcceptable(password)
            || email.Length > EmailAddress.MaxLength
            || EmailAddress.KeyOf(email) is not { } emailKey)
        {
            return AuthenticateResult.Fail("Malformed Basic credentials.");
        }

        // Past the bcrypt bulkhead, refuse before the database lookup: rejection must stay cheap.
        var clientKey = ClientAddress.KeyOf(Context);
        hasher.ThrowIfSaturated(clientKey);

        var lookup = await throttle.LookUpAsync(emailKey, clientKey, Context.RequestAborted);
        if (lookup.RetryAfter is { } wait)
        {
            metrics.SignInThrottled(lookup.Scope!);
            throw new TooManyRequestsException("Too many failed sign-ins for this email. Try again later.", wait);
        }

        // Verify even when the user is unknown (against a dummy hash): same cost, same answer.
        var verified = await hasher.VerifyAsync(password, lookup.PasswordHash, clientKey, Context.RequestAborted);
        if (!verified || lookup.UserId is not { } userId)
        {
            await throttle.RecordFailureAsync(emailKey, clientKey, Context.RequestAborted);
            return AuthenticateResult.Fail("Invalid credentials.");
        }

        if (lookup.HasFailures)
        {
            await throttle.RecordSuccessAsync(emailKey, clientKey, Context.RequestAborted);
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId.ToString())], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

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
