using Registration.Contracts.V1;

namespace Resilience.Tests;

/// <summary>
/// Scenario 3. The email provider fails for longer than every retry and longer than the codes live: HTTP
/// retries, message retries, then the error queue. After it recovers, the operator runs the worker
/// binary's <c>dead-letters replay</c>; the worker refuses the dead codes, the API issues fresh ones
/// (reason <c>redelivery</c>), those are emailed once and activate. The test output is the timeline.
/// </summary>
public sealed class ProviderOutageTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    private const int Users = 5;

    // The worker's default retries in tests: each delivery is 1 HTTP attempt and 3 HTTP retries, and a
    // message is delivered once and retried 4 times before the error queue.
    private const int DeliveriesPerMessage = 5;
    private const int AttemptsPerDelivery = 4;

    private static readonly TimeSpan Outage = TimeSpan.FromMinutes(10);

    // The worker's one line per failed delivery, first or retried, after the HTTP retries of that delivery
    // (Notification.Worker.Consumers.Log): "failed (attempt n), will retry", the last one "... to the error queue".
    private static readonly string[] SendFailedEvents = ["TransientFailure", "DeadLettered"];

    [Fact]
    public async Task DeadLetteredEmails_AreReplayed_AndUsersWhoseCodesExpiredGetFreshOnesThatActivate()
    {
        // Arrange: the API and the worker read one clock, so the expiry they compare is the same.
        await using var api = await environment.StartApiAsync(settings => settings.LogLevel("Information", "Registration.Api"));
        using var client = api.CreateApiClient();
        await using var worker = await environment.StartWorkerAsync();
        var provider = environment.Provider;
        var timeline = new Timeline(output, environment.Clock, () => Observed(api, worker));

        provider.FailWith(503);
        timeline.Step("The provider goes down: it answers 503 to every send.");

        // Act 1: registrations during the outage.
        var users = new List<TestUser>();
        for (var i = 0; i < Users; i++)
        {
            users.Add(await client.RegisterUserAsync(ApiRequests.UniqueEmail("outage")));
        }

        var firstCodes = await environment.Database.GetLatestCodesAsync(users.Select(user => user.Id));
        timeline.Step($"{Users} x POST /v1/users -> 201; codes valid until {firstCodes.Values.Max(code => code.ExpiresAt):HH:mm:ss}.");

        await Eventually.GetAsync(
            () => Broker.CountAsync(environment.VirtualHost, Broker.ActivationEmailErrorQueue), n => n == Users, $"all {Users} emails in the error queue");
        var registered = new List<StoredOutboxMessage>();
        foreach (var user in users)
        {
            registered.Add((await environment.Database.GetOutboxMessagesAsync(user.Id)).Single());
        }

        timeline.Step($"HTTP retries and message retries exhausted: the messages are in {Broker.ActivationEmailErrorQueue}.");

        // Assert 1: every attempt reached the provider and failed; nothing went out.
        foreach (var message in registered)
        {
            worker.Logs.Lines.Count(line => SendFailedEvents.Contains(line.EventName) && line.Message.Contains(message.Id.ToString(), StringComparison.Ordinal))
                .Should().Be(DeliveriesPerMessage, "the first delivery and each message retry failed");
            provider.RequestsFor(message.Id).Should().HaveCount(DeliveriesPerMessage * AttemptsPerDelivery, "each delivery is an HTTP attempt and its retries")
                .And.OnlyContain(request => request.Status == 503);
        }

        provider.Delivered.Should().BeEmpty();

        // Act 2: the outage outlasts the codes; then the provider is back and the operator replays.
        environment.Clock.Advance(Outage);
        timeline.Step($"{Outage.TotalMinutes:0} minutes pass (business clock): every code has died.");
        using (var expired = await client.ActivateAsync(users[0], firstCodes[users[0].Id].Code))
        {
            expired.StatusCode.Should().Be(HttpStatusCode.Gone, "the outage outlasted the codes");
        }

        provider.Accept();
        timeline.Step("The provider recovers: it answers 200. Operator runs: dotnet Notification.Worker.dll dead-letters replay");
        var (replayExit, replayOutput) = await environment.RunWorkerCommandAsync("dead-letters", "replay");
        timeline.Quote(replayOutput);

        var counts = await Deliveries.WaitForAllAsync(users, provider, environment.Database);
        timeline.Step($"The API issued fresh codes (reason redelivery) and they were emailed: {counts}.");

        var activations = new List<HttpStatusCode>();
        foreach (var user in users)
        {
            using var activation = await client.ActivateAsync(user, provider.DeliveredTo(user.Email)[^1].Code!);
            activations.Add(activation.StatusCode);
        }

        timeline.Step($"POST /v1/users/me/activation with them -> {string.Join(", ", activations.Select(status => (int)status))}.");

        // Assert 2
        replayExit.Should().Be(0);
        replayOutput.Should().Contain($"{Broker.ActivationEmailErrorQueue} -> {Broker.ActivationEmailQueue}: replayed {Users} message(s)");
        api.Events.Completed<ActivationCodeExpiredBeforeDelivery>().Should().Be(Users);
        foreach (var (user, dead) in users.Zip(registered))
        {
            (await environment.Database.GetProcessedOutcomeAsync(dead.Id)).Should().Be("expired", "the replayed code was dead: not sent");
            provider.Delivered.Should().NotContain(request => request.IsFor(dead.Id), "a dead code never goes out");
            var fresh = (await environment.Database.GetCodesAsync(user.Id))[^1];
            fresh.Reason.Should().Be("redelivery");
            var reissued = (await environment.Database.GetOutboxMessagesAsync(user.Id))[^1];
            (reissued.MessageType, reissued.Reason).Should().Be((nameof(ActivationCodeReissued), "redelivery"));
            var emailed = provider.DeliveredTo(user.Email).Should().ContainSingle("the fresh code is emailed once").Subject;
            emailed.IsFor(reissued.Id).Should().BeTrue();
            emailed.Code.Should().Be(fresh.Code);
            (await environment.Database.GetStatusAsync(user.Id)).Should().Be("active");
        }

        activations.Should().OnlyContain(status => status == HttpStatusCode.OK, "the code emailed after the replay works");
        provider.Delivered.Should().HaveCount(Users, "only the fresh codes went out, once each");
        (await Broker.CountAsync(environment.VirtualHost, Broker.ActivationEmailErrorQueue)).Should().Be(0);
    }

    /// <summary>Provider requests, consumes and the services' own log lines, for the timeline.</summary>
    private IEnumerable<(DateTime At, string Text)> Observed(ApiHost api, WorkerHost worker)
    {
        foreach (var request in environment.Provider.Requests)
        {
            yield return (request.ReceivedAt, $"provider  <- POST {request.Path} to {request.To} (code {request.Code}): {request.Status}");
        }

        foreach (var e in worker.Events.All.Concat(api.Events.All))
        {
            var what = e.Kind switch
            {
                BusEventKind.Started => "received",
                BusEventKind.Consumed => "consumed",
                _ => $"faulted (retry {e.RetryAttempt})",
            };
            yield return (e.At, $"{e.Host,-9} bus: {e.MessageType} {e.MessageId?.ToString()[^8..] ?? "-"} {what}");
        }

        foreach (var line in worker.Logs.Lines.Concat(api.Logs.Lines).Where(IsServiceLog))
        {
            yield return (line.At, $"{line.Host,-9} log: {line.Message}");
        }
    }

    private static bool IsServiceLog(LogLine line) =>
        line.Category.StartsWith("Notification.Worker.Consumers", StringComparison.Ordinal)
        || line.Category.StartsWith("Registration.Api", StringComparison.Ordinal);
}
