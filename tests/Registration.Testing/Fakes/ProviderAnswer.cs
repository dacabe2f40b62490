namespace Registration.Testing.Fakes;

/// <summary>
/// How the fake email provider answers one send: a status, after an optional stall, with an optional
/// Retry-After and body. Without a body it answers what the real API would for that status.
/// </summary>
/// <param name="Delivers">Whether the email goes out: a 2xx that carries no per-message error.</param>
public sealed record ProviderAnswer(int Status, bool Delivers, TimeSpan Delay = default, TimeSpan? RetryAfter = null, string? Body = null)
{
    /// <summary>Accepted (200), after <paramref name="delay"/>.</summary>
    public static ProviderAnswer Ok(TimeSpan delay = default) => new(200, Delivers: true, delay);

    /// <summary>Refused with <paramref name="status"/> (an outage: 503; throttling: 429 with Retry-After).</summary>
    public static ProviderAnswer Fail(int status, TimeSpan? retryAfter = null, string? body = null, TimeSpan delay = default) =>
        new(status, Delivers: false, delay, retryAfter, body);

    /// <summary>Mailjet's 200 that refuses the message itself (<c>"Status":"error"</c> with its error code).</summary>
    public static ProviderAnswer MailjetMessageError(string errorCode, string errorMessage) =>
        new(200, Delivers: false, Body: JsonSerializer.Serialize(new
        {
            Messages = new[]
            {
                new { Status = "error", Errors = new[] { new { ErrorCode = errorCode, StatusCode = 400, ErrorMessage = errorMessage } } },
            },
        }));
}
