using Microsoft.Extensions.Options;

namespace Notification.Worker.Email;

/// <summary>
/// An email API that takes one JSON POST per email (Mailjet, Mailpit). The sender from <c>Email:From</c>, the POST
/// and the mapping of its answer (<see cref="ProviderHttp.PostAsync"/>) are the same for both; a provider builds its
/// body and, where a 2xx can still refuse the message, reads that answer.
/// </summary>
/// <remarks>The HttpClient comes with the resilience pipeline (retries, timeouts, circuit breaker) attached.</remarks>
internal abstract class JsonEmailApiClient<TBody>(
    HttpClient http, IOptions<EmailOptions> options, IOptions<EmailResilienceOptions> resilience, string provider, string sendPath)
    : IEmailSender
{
    private readonly ProviderAddress _from = ProviderAddress.From(options.Value);

    public Task<EmailSendResult> SendAsync(OutgoingEmail email, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        return ProviderHttp.PostAsync(
            http,
            provider,
            sendPath,
            Build(email, _from),
            email,
            resilience.Value.RetryAfterCap,
            (response, ct) => ReadAcceptedAsync(response, email, ct),
            cancellationToken);
    }

    /// <summary>The provider's request body for <paramref name="email"/>, sent from <paramref name="from"/>.</summary>
    protected abstract TBody Build(OutgoingEmail email, ProviderAddress from);

    /// <summary>What a 2xx answer means: accepted, unless the provider can refuse the message in its body.</summary>
    protected virtual Task<EmailSendResult> ReadAcceptedAsync(HttpResponseMessage response, OutgoingEmail email, CancellationToken cancellationToken) =>
        Task.FromResult(EmailSendResult.Accepted);
}
