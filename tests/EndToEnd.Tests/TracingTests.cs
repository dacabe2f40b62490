using System.Diagnostics;

namespace EndToEnd.Tests;

/// <summary>
/// One trace from the sign-up request to the email provider: the API's request, the outbox row's
/// trace_parent, the dispatcher's publish, MassTransit's send and consume, the worker's HTTP call.
/// </summary>
public sealed class TracingTests(ApiFixture fixture, ITestOutputHelper output) : ApiTest(fixture)
{
    [Fact]
    public async Task OneTraceId_SpansTheRegistrationRequestAndTheWorkersCallToTheProvider()
    {
        // Arrange
        using var spans = new SpanCollector();
        await using var worker = await Environment.StartWorkerAsync();
        var email = ApiRequests.UniqueEmail("traced");

        // Act
        var user = await Client.RegisterUserAsync(email);
        var sent = (await Eventually.GetAsync(() => Environment.Provider.DeliveredTo(email), e => e.Count > 0, "the activation email"))[0];

        // Assert
        sent.TraceId.Should().NotBeNullOrEmpty("the worker's call to the provider carries a W3C traceparent header");
        // Spans are seen when they end; the worker's consume ends after the provider answered.
        var trace = await Eventually.GetAsync(
            () => spans.InTrace(sent.TraceId!),
            found => found.Any(IsRegistrationRequest) && found.Any(IsWorkerConsume),
            "the POST /v1/users span and the worker's consume span in the provider call's trace");
        foreach (var span in trace)
        {
            // The fake provider is ASP.NET Core in this process: its own server span closes the trace.
            var note = span.Source.Name == "Microsoft.AspNetCore" && span.ParentSpanId != default ? " [the fake provider]" : string.Empty;
            output.WriteLine($"{span.StartTimeUtc:HH:mm:ss.fff} {span.Source.Name,-24} {span.Kind,-8} {span.DisplayName} (span {span.SpanId}, parent {span.ParentSpanId}){note}");
        }

        var request = trace.Single(IsRegistrationRequest);
        request.ParentSpanId.Should().Be(default(ActivitySpanId), "the trace starts at the API's request");
        var outbox = (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Single();
        outbox.TraceId.Should().Be(sent.TraceId, "the outbox row carries the request's trace to the dispatcher");
        trace.Should().Contain(span => span.Source.Name == "Registration.Api.Outbox", "the dispatcher's publish continues the trace");
        trace.Should().Contain(span => span.Source.Name == "System.Net.Http" && span.Kind == ActivityKind.Client, "the provider call is part of it");
    }

    private static bool IsRegistrationRequest(Activity span) =>
        span.Source.Name == "Microsoft.AspNetCore"
        && span.Kind == ActivityKind.Server
        && span.GetTagItem("http.request.method") as string == "POST"
        && span.GetTagItem("url.path") as string == "/v1/users";

    private static bool IsWorkerConsume(Activity span) =>
        span.Source.Name == "MassTransit" && span.Kind == ActivityKind.Consumer;
}
