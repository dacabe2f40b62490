using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Notification.Worker.Email;

/// <summary>
/// Mailjet Send API v3.1: <c>POST {BaseUrl}/v3.1/send</c> with Basic auth (API key, secret).
/// A 200 can still carry a rejected message (<c>Messages[].Status = "error"</c>): that is a
/// permanent failure, as is any 4xx other than 408/429.
/// </summary>
internal sealed class MailjetEmailClient(HttpClient http, IOptions<EmailOptions> options, IOptions<EmailResilienceOptions> resilience)
    : JsonEmailApiClient<MailjetEmailClient.SendRequest>(http, options, resilience, Provider, SendPath)
{
    public const string SendPath = "v3.1/send";
    private const string Provider = "Mailjet";

    protected override async Task<EmailSendResult> ReadAcceptedAsync(HttpResponseMessage response, OutgoingEmail email, CancellationToken cancellationToken)
    {
        SendResponse? answer;
        try
        {
            answer = await response.Content.ReadFromJsonAsync<SendResponse>(ProviderHttp.Json, cancellationToken);
        }
        catch (JsonException)
        {
            // A 2xx means Mailjet took the request; an odd body is no reason to send twice.
            return EmailSendResult.Accepted;
        }

        var rejected = answer?.Messages?.FirstOrDefault(m => !string.Equals(m.Status, "success", StringComparison.OrdinalIgnoreCase));
        if (rejected is null)
        {
            return EmailSendResult.Accepted;
        }

        var errors = rejected.Errors is { Count: > 0 }
            ? string.Join("; ", rejected.Errors.Select(e => $"{e.ErrorCode} {e.ErrorMessage}".Trim()))
            : "no error detail";
        return EmailSendResult.Permanent(email.Redact($"{Provider} rejected the message (status {rejected.Status}): {errors}"));
    }

    protected override SendRequest Build(OutgoingEmail email, ProviderAddress from) =>
        new([
            new Message(
                from,
                [ProviderAddress.To(email.To)],
                email.Subject,
                email.TextBody,
                email.HtmlBody,
                email.Reference),
        ]);

    internal sealed record SendRequest(IReadOnlyList<Message> Messages);

    internal sealed record Message(
        ProviderAddress From,
        IReadOnlyList<ProviderAddress> To,
        string Subject,
        string TextPart,
        [property: JsonPropertyName("HTMLPart")] string HtmlPart,
        [property: JsonPropertyName("CustomID")] string CustomId);

    internal sealed record SendResponse(IReadOnlyList<MessageResult>? Messages);

    internal sealed record MessageResult(string? Status, IReadOnlyList<MessageError>? Errors);

    internal sealed record MessageError(string? ErrorCode, string? ErrorMessage);
}
