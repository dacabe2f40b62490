using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Notification.Worker.Email;

/// <summary>
/// Mailpit's send API (<c>POST {BaseUrl}/api/v1/send</c>), for development: the mailbox shows
/// in Mailpit's web UI. Tags say what the email is for and carry the message reference. Basic auth only when configured.
/// </summary>
internal sealed class MailpitEmailClient(HttpClient http, IOptions<EmailOptions> options, IOptions<EmailResilienceOptions> resilience)
    : JsonEmailApiClient<MailpitEmailClient.SendRequest>(http, options, resilience, Provider, SendPath)
{
    public const string SendPath = "api/v1/send";
    private const string Provider = "Mailpit";

    protected override SendRequest Build(OutgoingEmail email, ProviderAddress from) =>
        new(
            from,
            [ProviderAddress.To(email.To)],
            email.Subject,
            email.TextBody,
            email.HtmlBody,
            [email.Tag, email.Reference]);

    internal sealed record SendRequest(
        ProviderAddress From,
        IReadOnlyList<ProviderAddress> To,
        string Subject,
        string Text,
        [property: JsonPropertyName("HTML")] string Html,
        IReadOnlyList<string> Tags);
}
