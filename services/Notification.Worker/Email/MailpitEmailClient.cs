using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Notification.Worker.Email;

/// <summary>
/// Mailpit's send API (<c>POST {BaseUrl}/api/v1/send</c>), for development: the mailbox shows
/// in Mailpit's web UI. Tags say what the email is for and carry the message reference. Basic auth only when configured.
/// </summary>
/// <remarks>The HttpClient comes with the resilience pipeline (retries, timeouts, circuit breaker) attached.</remarks>
public sealed class MailpitEmailClient(HttpClient http, IOptions<EmailOptions> options, IOptions<EmailResilienceOptions> resilience) : IEmailSender
{
    public const string SendPath = "api/v1/send";
    private const string Provider = "Mailpit";

    private readonly Address _from = From(options.Value);

    public Task<EmailSendResult> SendAsync(OutgoingEmail email, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        return ProviderHttp.PostAsync(
            http,
            Provider,
            SendPath,
            Build(email, _from),
            email,
            resilience.Value.RetryAfterCap,
            (_, _) => Task.FromResult(EmailSendResult.Accepted),
            cancellationToken);
    }

    internal static SendRequest Build(OutgoingEmail email, Address from) =>
        new(
            from,
            [new Address(email.To, null)],
            email.Subject,
            email.TextBody,
            email.HtmlBody,
            [email.Tag, email.Reference]);

    private static Address From(EmailOptions options)
    {
        var from = options.FromAddress();
        return new Address(from.Address, string.IsNullOrEmpty(from.DisplayName) ? null : from.DisplayName);
    }

    internal sealed record SendRequest(
        Address From,
        IReadOnlyList<Address> To,
        string Subject,
        string Text,
        [property: JsonPropertyName("HTML")] string Html,
        IReadOnlyList<string> Tags);

    internal sealed record Address(string Email, string? Name);
}
