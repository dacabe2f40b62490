using System.Net;
using Registration.Contracts.V1;
using Xunit.Abstractions;

namespace EndToEnd.Tests;

/// <summary>
/// What a provider outage longer than a code's life does to one registration, step by step: HTTP
/// retries, message retries, the error queue, the operator's replay after the outage, the worker
/// refusing the dead code, the API's fresh code, and a working activation. The test output is the
/// timeline.
/// </summary>
public sealed class ProviderOutageTests(ApiFixture environment, ITestOutputHelper output) : IClassFixture<ApiFixture>
{
    private readonly HttpClient _client = environment.CreateClient();

    private static readonly TimeSpan Outage = TimeSpan.FromMinutes(10);

    // The worker's "Activation email ... failed, will retry" line (Notification.Worker.Consumers.Log.TransientFailure),
    // written once per delivery, first or retried, after the HTTP retries of that delivery.
    private const int SendFailedEventId = 3004;

    [Fact]
    public async Task ProviderOutage_DeadLettersTheEmail_AndAfterReplayTheUserGetsAFreshCodeThatActivates()
    {
        // Arrange
        await using var worker = await environment.StartWorkerAsync();
        var provider = environment.Provider;
        var timeline = new Timeline(output, environment.Clock, () => Observed(worker));
        var email = ApiRequests.UniqueEmail("outage");

        provider.FailWith(503);
        timeline.Step("The provider goes down: it answers 503 to every send.");

        // Act 1: a registration during the outage.
        var user = await _client.RegisterUserAsync(email);
        var userId = user.Id;
        var first = (await environment.Database.GetCodesAsync(userId)).Single();
        timeline.Step($"POST /v1/users -> 201; code issued, valid until {first.ExpiresAt:HH:mm:ss}.");

        await Eventually.GetAsync(
            () => Broker.CountAsync(environment.VirtualHost, Broker.ActivationEmailErrorQueue), n => n == 1, "the email in the error queue");
        var registered = (await environment.Database.GetOutboxMessagesAsync(userId)).Single();
        timeline.Step($"HTTP retries and message retries exhausted: the message is in {Broker.ActivationEmailErrorQueue}.");

        timeline.Step("Operator runs: dead-letters list");
        var (listExit, listOutput, _) = await WorkerCommand.RunDeadLettersAsync(environment.WorkerSettings(), ["list"]);
        timeline.Quote(listOutput);

        // Assert 1: every attempt reached the provider and failed; nothing went out.
        var failedSends = worker.Logs.Lines.Count(line => line.EventId == SendFailedEventId && line.Message.Contains(registered.Id.ToString(), StringComparison.Ordinal));
        failedSends.Should().Be(5, "the first delivery and 4 message retries each failed");
        provider.RequestsFor(registered.Id).Should().HaveCount(20, "each delivery is 1 HTTP attempt and 3 HTTP retries")
            .And.OnlyContain(r => r.Status == 503);
        listExit.Should().Be(0);
        listOutput.Should().Contain($"{Broker.ActivationEmailErrorQueue}: 1 message(s)")
            .And.Contain(registered.Id.ToString())
            .And.Contain(nameof(UserRegistered))
            .And.Contain("TransientEmailFailureException")
            .And.Contain("503");

        // Act 2: the outage lasts longer than the code; then the provider is back and the operator replays.
        environment.Clock.Advance(Outage);
        timeline.Step($"{Outage.TotalMinutes:0} minutes pass (business clock): the code died at {first.ExpiresAt:HH:mm:ss}.");

        provider.Accept();
        timeline.Step("The provider recovers: it answers 200.");

        timeline.Step("Operator runs: dead-letters replay");
        var (replayExit, replayOutput, _) = await WorkerCommand.RunDeadLettersAsync(environment.WorkerSettings(), ["replay"]);
        timeline.Quote(replayOutput);

        var codes = await Eventually.GetAsync(
            () => environment.Database.GetCodesAsync(userId), c => c.Any(code => code.Reason == "redelivery"), "the fresh code");
        var fresh = codes.Single(code => code.Reason == "redelivery");
        timeline.Step($"The API issued a fresh code (reason redelivery), valid until {fresh.ExpiresAt:HH:mm:ss}.");

        var emailed = await Eventually.GetAsync(() => provider.DeliveredTo(email), e => e.Count > 0, "the email with the fresh code");
        timeline.Step($"The fresh code was emailed ({emailed[0].Code}).");

        using var activation = await _client.ActivateAsync(user, emailed[0].Code!);
        timeline.Step($"POST /v1/users/me/activation with it -> {(int)activation.StatusCode}.");

        // Assert 2
        replayExit.Should().Be(0);
        replayOutput.Should().Contain($"{Broker.ActivationEmailErrorQueue} -> {Broker.ActivationEmailQueue}: replayed 1 message(s)");
        (await environment.Database.GetProcessedOutcomeAsync(registered.Id)).Should().Be("expired", "the replayed code was dead: not sent");
        provider.Delivered.Should().NotContain(r => r.IsFor(registered.Id), "the dead code never went out");
        environment.Api.Events.Completed<ActivationCodeExpiredBeforeDelivery>().Should().Be(1);
        var outbox = await environment.Database.GetOutboxMessagesAsync(userId);
        var reissued = outbox[^1];
        (reissued.MessageType, reissued.Reason).Should().Be((nameof(ActivationCodeReissued), "redelivery"));
        emailed.Should().ContainSingle().Which.IsFor(reissued.Id).Should().BeTrue();
        emailed[0].Code.Should().Be(fresh.Code);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
        (await activation.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("active");
        (await Broker.CountAsync(environment.VirtualHost, Broker.ActivationEmailErrorQueue)).Should().Be(0);
    }

    /// <summary>Provider requests, consumes and the services' own log lines, for the timeline.</summary>
    private IEnumerable<(DateTime At, string Text)> Observed(WorkerHost worker)
    {
        foreach (var request in environment.Provider.Requests)
        {
            yield return (request.ReceivedAt, $"provider  <- POST {request.Path} (code {request.Code}): {request.Status}");
        }

        foreach (var e in worker.Events.All.Concat(environment.Api.Events.All))
        {
            var what = e.Kind switch
            {
                BusEventKind.Started => "received",
                BusEventKind.Consumed => "consumed",
                _ => "faulted after its retries: to the error queue",
            };
            yield return (e.At, $"{e.Host,-9} bus: {e.MessageType} {ShortId(e.MessageId)} {what}");
        }

        foreach (var line in worker.Logs.Lines.Concat(environment.Api.Logs.Lines).Where(IsServiceLog))
        {
            yield return (line.At, $"{line.Host,-9} log: {line.Message}");
        }
    }

    private static bool IsServiceLog(LogLine line) =>
        line.Category.StartsWith("Notification.Worker.Consumers", StringComparison.Ordinal)
        || line.Category.StartsWith("Registration.Api", StringComparison.Ordinal);

    private static string ShortId(Guid? id) => id?.ToString()[..8] ?? "-";
}
