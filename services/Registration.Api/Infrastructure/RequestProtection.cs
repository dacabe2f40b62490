using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Registration.Api.Infrastructure;

public sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    public bool Enabled { get; set; } = true;

    /// <summary>Length of the fixed window every per-IP limit counts in.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    [Range(1, 1_000_000)]
    public int RegistrationsPerWindow { get; set; } = 20;

    [Range(1, 1_000_000)]
    public int ActivationsPerWindow { get; set; } = 30;

    [Range(1, 1_000_000)]
    public int ResendsPerWindow { get; set; } = 10;

    /// <summary>GET, PATCH and DELETE /v1/users/me and the email confirmation together (each runs bcrypt).</summary>
    [Range(1, 1_000_000)]
    public int AccountRequestsPerWindow { get; set; } = 60;

    /// <summary>The operator routes together (a wrong key is refused cheaply, but each request reads the database).</summary>
    [Range(1, 1_000_000)]
    public int OperatorRequestsPerWindow { get; set; } = 120;
}

public sealed class HttpProtectionOptions
{
    public const string SectionName = "Http";

    /// <summary>Largest request body accepted (the JSON bodies here are a few hundred bytes).</summary>
    [Range(256, 10 * 1024 * 1024)]
    public int MaxRequestBodyBytes { get; set; } = 4 * 1024;

    /// <summary>
    /// Reverse proxies whose X-Forwarded-For is believed (IP addresses or CIDR ranges). Empty: the
    /// header is ignored and the client address is the TCP peer, so a client cannot spoof its IP.
    /// </summary>
    public string[] KnownProxies { get; set; } = [];
}

/// <summary>Per-client rate limits, the request body limit, forwarded headers and security headers.</summary>
public static class RequestProtection
{
    public const string RegistrationPolicy = "registration";
    public const string ActivationPolicy = "activation";
    public const string ResendPolicy = "resend";
    public const string AccountPolicy = "account";
    public const string OperatorPolicy = "operator";

    /// <summary>
    /// Registers the protection settings and builds the limiter and forwarded-header options from the
    /// same validated <see cref="RateLimitingOptions"/> and <see cref="HttpProtectionOptions"/> the rest
    /// of the API reads, not from a second, unvalidated read of the configuration.
    /// </summary>
    public static IServiceCollection AddRequestProtection(this IServiceCollection services)
    {
        services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HttpProtectionOptions>().BindConfiguration(HttpProtectionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitingOptions>>((options, settings) =>
        {
            var limits = settings.Value;
            AddPerIpPolicy(options, RegistrationPolicy, limits, limits.RegistrationsPerWindow);
            AddPerIpPolicy(options, ActivationPolicy, limits, limits.ActivationsPerWindow);
            AddPerIpPolicy(options, ResendPolicy, limits, limits.ResendsPerWindow);
            AddPerIpPolicy(options, AccountPolicy, limits, limits.AccountRequestsPerWindow);
            AddPerIpPolicy(options, OperatorPolicy, limits, limits.OperatorRequestsPerWindow);
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : limits.Window;
                context.HttpContext.Response.Headers.RetryAfter =
                    Problems.RetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture);
                await Problems.Create(
                    StatusCodes.Status429TooManyRequests, ProblemTypes.TooManyRequests,
                    "Too many requests from this address. Try again later.").ExecuteAsync(context.HttpContext);
            };
        });

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<HttpProtectionOptions>>((options, settings) =>
        {
            var proxies = settings.Value.KnownProxies;
            // With both lists empty the middleware would believe X-Forwarded-For from ANY peer (it checks
            // the peer only when a list has an entry): with no proxy configured, process no header at all.
            options.ForwardedHeaders = proxies.Length == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            foreach (var proxy in proxies)
            {
                if (proxy.Contains('/', StringComparison.Ordinal))
                {
                    options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
                }
                else
                {
                    options.KnownProxies.Add(IPAddress.Parse(proxy));
                }
            }
        });

        return services;
    }

    public static WebApplication UseRequestProtection(this WebApplication app)
    {
        app.UseForwardedHeaders();

        var maxBody = app.Services.GetRequiredService<IOptions<HttpProtectionOptions>>().Value.MaxRequestBodyBytes;
        app.Use((context, next) =>
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = maxBody;
            }

            // Added as the response starts, so that every response carries them: also the 413 below and
            // the answers of the exception handler, which clears the headers set before it ran.
            context.Response.OnStarting(AddResponseHeaders, context);

            if (context.Request.ContentLength > maxBody)
            {
                // Refuse before reading: 413 as a problem, like every other error.
                return Problems.PayloadTooLarge(maxBody).ExecuteAsync(context);
            }

            return next(context);
        });

        if (app.Services.GetRequiredService<IOptions<RateLimitingOptions>>().Value.Enabled)
        {
            app.UseRateLimiter();
        }

        return app;
    }

    private static Task AddResponseHeaders(object state)
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
        {
            // Account data is personal: no cache, shared or private, keeps a copy.
            headers.CacheControl = "no-store";
        }

        if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // The unread body cannot be drained (it is over the limit), so the server closes the
            // connection after this answer; saying so keeps a keep-alive client from sending its next
            // request into a connection that is going away.
            headers.Connection = "close";
        }

        return Task.CompletedTask;
    }

    /// <summary>A fixed window per client (<see cref="ClientAddress"/>: an IPv6 /64 is one client, not 2^64).</summary>
    private static void AddPerIpPolicy(RateLimiterOptions options, string name, RateLimitingOptions limits, int permits) =>
        options.AddPolicy(name, context => RateLimitPartition.GetFixedWindowLimiter(
            ClientAddress.KeyOf(context),
            _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permits,
                Window = limits.Window,
                QueueLimit = 0,
            }));
}
