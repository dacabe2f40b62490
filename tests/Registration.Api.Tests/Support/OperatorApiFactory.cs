using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Registration.Api.Tests.Support;

/// <summary>The API with an operator key configured (<c>Admin:ApiKey</c>), so the operator routes open to it.</summary>
public class OperatorApiFactory : ApiFactory
{
    public const string ApiKey = "test-operator-key-5b0c1f4e9d2a4e7f";

    /// <summary><c>Authorization: Bearer {Admin:ApiKey}</c>.</summary>
    public static AuthenticationHeaderValue OperatorCredentials => new("Bearer", ApiKey);

    protected override void AddSettings(IDictionary<string, string> settings) => settings["Admin:ApiKey"] = ApiKey;
}

/// <summary>
/// The API behind real Kestrel sockets instead of the in-memory TestServer, for what only a real server
/// shows: the body limit on a chunked body, the <c>Server</c> header, client addresses, real connections.
/// </summary>
public class KestrelApiFactory : OperatorApiFactory
{
    public KestrelApiFactory() => UseKestrel(0);

    /// <summary>
    /// A client that sends request bodies as given. The default client follows redirects, and to be able
    /// to resend a body it buffers it first, which turns a chunked body into one with a Content-Length.
    /// </summary>
    public HttpClient CreateStreamingClient()
    {
        using var probe = CreateClient();
        return CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = probe.BaseAddress! });
    }
}

/// <summary>
/// Kestrel with the per-IP rate limits on and low (window long enough never to roll over during a run),
/// and loopback as the trusted reverse proxy: a test names its client address with <c>X-Forwarded-For</c>,
/// so tests of one class do not share a limit.
/// </summary>
public sealed class RateLimitedKestrelApiFactory : KestrelApiFactory
{
    public const int RegistrationsPerWindow = 3;
    public const int ActivationsPerWindow = 3;
    public const int ResendsPerWindow = 2;

    private static int _lastClient;

    /// <summary>A client address (TEST-NET-3) no other test uses.</summary>
    public static string NextClientAddress() => $"203.0.113.{Interlocked.Increment(ref _lastClient) % 250 + 1}";

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        base.AddSettings(settings);
        settings["RateLimiting:Enabled"] = "true";
        settings["RateLimiting:Window"] = "01:00:00";
        settings["RateLimiting:RegistrationsPerWindow"] = RegistrationsPerWindow.ToString(CultureInfo.InvariantCulture);
        settings["RateLimiting:ActivationsPerWindow"] = ActivationsPerWindow.ToString(CultureInfo.InvariantCulture);
        settings["RateLimiting:ResendsPerWindow"] = ResendsPerWindow.ToString(CultureInfo.InvariantCulture);
        settings["Http:KnownProxies:0"] = "127.0.0.1";
        settings["Http:KnownProxies:1"] = "::1";
    }
}

/// <summary>
/// Kestrel with bcrypt at a realistic cost behind a small bulkhead: two hashes at once, four waiting, so
/// a flood of Basic-auth requests overflows it and gets 503 <c>unavailable</c>.
/// </summary>
public sealed class BcryptFloodApiFactory : KestrelApiFactory
{
    public const int WorkFactor = 10;
    public const int HashingConcurrency = 2;
    public const int HashingQueueLimit = 4;

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        base.AddSettings(settings);
        settings["Security:BcryptWorkFactor"] = WorkFactor.ToString(CultureInfo.InvariantCulture);
        settings["Security:HashingConcurrency"] = HashingConcurrency.ToString(CultureInfo.InvariantCulture);
        settings["Security:HashingQueueLimit"] = HashingQueueLimit.ToString(CultureInfo.InvariantCulture);
        // Every 503 is logged as an error with its stack trace: hundreds of them would measure the
        // console logger rather than the bulkhead.
        settings["Logging:LogLevel:Registration.Api.Infrastructure.ProblemExceptionHandler"] = "None";
    }
}
