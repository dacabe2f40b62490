using System.Net.Http.Headers;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Notification.Worker.Email;

internal static class EmailServiceCollectionExtensions
{
    private const string PipelineName = "email-provider";

    /// <summary>
    /// Registers <see cref="IEmailSender"/> for <c>Email:Provider</c>: a typed
    /// HttpClient with one resilience pipeline for the HTTP providers, the console writer otherwise.
    /// The factory's per-request log handlers are removed: the consumer logs each outcome itself, and
    /// their scopes cost CPU on every send even when filtered out (seen in a profile of the pipeline).
    /// </summary>
    public static IServiceCollection AddEmailSender(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EmailOptions>()
            .Bind(configuration.GetSection(EmailOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        services.AddOptions<EmailResilienceOptions>()
            .Bind(configuration.GetSection(EmailResilienceOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // The provider picks which services exist, so it is read now; its settings are validated at start.
        var provider = configuration.GetSection(EmailOptions.SectionName).GetValue<EmailProvider?>(nameof(EmailOptions.Provider))
            ?? EmailProvider.Console;
        switch (provider)
        {
            case EmailProvider.Mailjet:
                services.AddHttpClient<MailjetEmailClient>(ConfigureProviderClient).RemoveAllLoggers().AddResilienceHandler(PipelineName, ConfigurePipeline);
                services.AddTransient<IEmailSender>(sp => sp.GetRequiredService<MailjetEmailClient>());
                break;
            case EmailProvider.Mailpit:
                services.AddHttpClient<MailpitEmailClient>(ConfigureProviderClient).RemoveAllLoggers().AddResilienceHandler(PipelineName, ConfigurePipeline);
                services.AddTransient<IEmailSender>(sp => sp.GetRequiredService<MailpitEmailClient>());
                break;
            default:
                services.AddSingleton<IEmailSender, ConsoleEmailClient>();
                break;
        }

        return services;
    }

    private static void ConfigureProviderClient(IServiceProvider services, HttpClient client)
    {
        var options = services.GetRequiredService<IOptions<EmailOptions>>().Value;
        client.BaseAddress = ProviderHttp.WithTrailingSlash(options.BaseUrl!);
        // The pipeline's total timeout bounds a send; HttpClient's own 100 s must not cut in first.
        client.Timeout = Timeout.InfiniteTimeSpan;
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (!string.IsNullOrWhiteSpace(options.ApiKey) && !string.IsNullOrWhiteSpace(options.ApiSecret))
        {
            client.DefaultRequestHeaders.Authorization = ProviderHttp.BasicAuth(options.ApiKey, options.ApiSecret);
        }
    }

    /// <summary>
    /// Outermost first: total timeout, retry (jittered exponential backoff on 5xx, 408, 429,
    /// network errors and attempt timeouts, honouring Retry-After up to a cap), circuit
    /// breaker, per-attempt timeout.
    /// </summary>
    private static void ConfigurePipeline(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context)
    {
        var options = context.ServiceProvider.GetRequiredService<IOptions<EmailResilienceOptions>>().Value;

        // Transport timing runs on the wall clock. The injected TimeProvider is the business
        // clock (code expiry) that tests move by hand; waits and timeouts must still elapse.
        pipeline.TimeProvider = TimeProvider.System;

        pipeline.AddTimeout(options.TotalTimeout);
        if (options.MaxRetryAttempts > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldRetryAfterHeader = false,
                // A Retry-After beyond the cap ends the HTTP attempts: the consumer redelivers the message
                // no sooner than asked instead of knocking again at the cap.
                ShouldHandle = args => ValueTask.FromResult(
                    !(ProviderHttp.RetryAfter(args.Outcome.Result) > options.RetryAfterCap) && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
                // Within the cap (ShouldHandle lets nothing longer through); null falls back to the backoff.
                DelayGenerator = args => ValueTask.FromResult(ProviderHttp.RetryAfter(args.Outcome.Result)),
            });
        }

        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = options.BreakerFailureRatio,
            MinimumThroughput = options.BreakerMinimumThroughput,
            SamplingDuration = options.BreakerSamplingDuration,
            BreakDuration = options.BreakerBreakDuration,
        });
        pipeline.AddTimeout(options.AttemptTimeout);
    }
}
