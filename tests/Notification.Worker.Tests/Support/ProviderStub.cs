using System.Text.Json;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Notification.Worker.Tests.Support;

/// <summary>Answers of the fake email provider, and what it received.</summary>
public static class ProviderStub
{
    public const string MailjetPath = "/v3.1/send";
    public const string MailpitPath = "/api/v1/send";

    public const string MailjetSuccess = """{"Messages":[{"Status":"success","To":[{"MessageUUID":"1ab23cd4","MessageID":1}]}]}""";

    public static IResponseBuilder Ok(string body = MailjetSuccess) =>
        Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body);

    public static IResponseBuilder Status(int status, string body = "") =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);

    /// <summary>Answers the first requests with the given responses in turn; the last one stays.</summary>
    public static void RespondInSequence(this WireMockServer server, string path, params IResponseBuilder[] responses)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(responses);
        var scenario = Guid.NewGuid().ToString();
        for (var step = 0; step < responses.Length; step++)
        {
            var provider = server.Given(Request.Create().WithPath(path).UsingPost()).InScenario(scenario);
            if (step > 0)
            {
                provider = provider.WhenStateIs($"step-{step}");
            }

            if (step < responses.Length - 1)
            {
                provider = provider.WillSetStateTo($"step-{step + 1}");
            }

            provider.RespondWith(responses[step]);
        }
    }

    public static void RespondAlways(this WireMockServer server, string path, IResponseBuilder response)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Given(Request.Create().WithPath(path).UsingPost()).RespondWith(response);
    }

    public static IReadOnlyList<ILogEntry> Requests(this WireMockServer server) =>
        [.. server.LogEntries.OrderBy(entry => entry.RequestMessage.DateTime)];

    /// <summary>Requests whose Mailjet CustomID or Mailpit tags name the message.</summary>
    public static IReadOnlyList<ILogEntry> RequestsFor(this WireMockServer server, Guid messageId) =>
        [.. server.Requests().Where(entry => entry.RequestMessage.Body?.Contains(messageId.ToString(), StringComparison.Ordinal) == true)];

    public static JsonElement Json(this ILogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        using var document = JsonDocument.Parse(entry.RequestMessage.Body!);
        return document.RootElement.Clone();
    }

    public static string? Header(this ILogEntry entry, string name)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var headers = entry.RequestMessage.Headers;
        return headers is not null && headers.TryGetValue(name, out var values) ? values.FirstOrDefault() : null;
    }
}
