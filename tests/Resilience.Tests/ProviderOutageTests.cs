using System.Net;
using Xunit.Abstractions;

namespace Resilience.Tests;

/// <summary>
/// Scenario 3. The email provider fails for longer than every retry: the messages end in
/// <c>activation-email_error</c>. Meanwhile their codes expire. After the provider recovers, the
/// operator's <c>dead-letters replay</c> (the worker binary, as a child process) puts them back; the
/// worker sees the codes are dead and says so, the API issues fresh ones (reason <c>redelivery</c>), and
/// those arrive and activate.
/// </summary>
public sealed class ProviderOutageTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    private const int Users = 10;

    [Fact]
    public async Task DeadLetteredEmails_AreReplayed_AndUsersWhoseCodesExpiredGetFreshOnesThatActivate()
    {
        await using var api = await environment.StartApiAsync();
        using var client = api.CreateApiClient();
        // The API and the worker read one clock: the expiry they compare is the same.
        await environment.StartWorkerAsync();
        environment.Provider.FailWith(503);
        output.WriteLine($"Provider answers 503 to everything; registering {Users} users.");

        var users = new List<TestUser>();
        for (var i = 0; i < Users; i++)
        {
            var user = TestUser.New("provider-down");
            using var response = await client.RegisterAsync(user);
            response.StatusCode.Should().Be(HttpStatusCode.Created);
            users.Add(user);
        }

        await Eventually.HoldsAsync(
            async () => (await Broker.InspectAsync(environment.VirtualHost, Broker.ActivationEmailErrorQueue))?.Messages == Users,
            $"all {Users} messages exhaust their retries and land in {Broker.ActivationEmailErrorQueue}",
            TimeSpan.FromSeconds(60));
        var failedSends = environment.Provider.Requests.Count;
        output.WriteLine($"{Users} messages in {Broker.ActivationEmailErrorQueue} after {failedSends} failed sends ({failedSends / Users} per message).");
        environment.Provider.Delivered.Should().BeEmpty();

        var firstCodes = await environment.Database.GetLatestCodesAsync(users.Select(user => user.Id));
        environment.Clock.Advance(TimeSpan.FromMinutes(2));
        using (var expired = await client.ActivateAsync(users[0], firstCodes[users[0].Id].Code))
        {
            expired.StatusCode.Should().Be(HttpStatusCode.Gone, "the outage outlasted the codes");
        }

        output.WriteLine("Clock of the API and the worker moved 2 minutes on: every code has expired.");

        environment.Provider.Accept();
        var (exitCode, replayOutput) = await environment.RunWorkerCommandAsync("dead-letters", "replay");
        output.WriteLine($"Provider recovered; `dead-letters replay` exited {exitCode}: {replayOutput.Trim()}");
        exitCode.Should().Be(0);
        replayOutput.Should().Contain($"replayed {Users} message(s)");

        await Deliveries.WaitForAllAsync(users, environment.Provider, environment.Database, TimeSpan.FromSeconds(60));
        var counts = await Deliveries.CountAsync(users, environment.Provider, environment.Database);
        var fresh = await environment.Database.GetLatestCodesAsync(users.Select(user => user.Id));
        fresh.Values.Should().OnlyContain(code => code.Reason == "redelivery", "each user got a fresh code after the old one died undelivered");

        var activated = 0;
        foreach (var user in users)
        {
            var emailed = environment.Provider.Delivered.Last(email => email.To == user.Email);
            using var response = await client.ActivateAsync(user, emailed.Code!);
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"the code emailed after the replay works ({await response.ProblemTypeAsync()})");
            activated++;
        }

        output.WriteLine($"Fresh codes (reason redelivery) emailed to {counts.Delivered} users; {activated} activated with them (200).");
        output.WriteLine($"Counts: {counts}.");
        counts.Lost.Should().Be(0);
        environment.Provider.Delivered.Where(email => email.Code == null).Should().BeEmpty();
        environment.Provider.Delivered.Count.Should().Be(Users, "the dead codes were never emailed; only the fresh ones, once each");
    }
}
