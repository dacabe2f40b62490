using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Registration.Api.Infrastructure;
using Registration.Hosting;

namespace Resilience.Tests;

/// <summary>
/// Scenario 5. PostgreSQL fails for the API (a proxy in front of it) while traffic runs, twice: first
/// down (connections reset, new ones refused), then partitioned (connections open but silent, where
/// only timeouts help). Every request is answered 503 <c>unavailable</c>, never a 500, and within a
/// bound; readiness reports the outage while liveness stays 200; afterwards everything works, no
/// half-written registration exists, and every user who got a 201 receives a usable code.
/// </summary>
public sealed class DatabaseOutageTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    // A query already sent when the network goes silent takes Command Timeout + 2 x Timeout to fail (its
    // cancel request waits too). The API defaults those to 10 s and 5 s unless the connection string sets
    // them (ApplicationServices.WithFailFastDefaults); the test gives it shorter ones (docs/reliability.md).
    private const int ConnectTimeoutSeconds = 2;
    private const int CommandTimeoutSeconds = 2;

    /// <summary>Any request that finds the database down, or arrives during a partition.</summary>
    private static readonly TimeSpan QuickAnswer = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A request whose query was already on an open connection when the partition began. Inside a
    /// transaction that can be two such waits, the failed command and the rollback of its transaction on the
    /// same silent connection (one CI run measured 10.08 s against a bound that counted only one).
    /// </summary>
    private static readonly TimeSpan CaughtAnswer = TimeSpan.FromSeconds((2 * (CommandTimeoutSeconds + (2 * ConnectTimeoutSeconds))) + 4);

    private readonly List<Outage> _outages = [];

    [Fact]
    public async Task Requests_AnswerUnavailableQuickly_DuringADatabaseOutage_AndNothingIsHalfWritten()
    {
        // Migrated beforehand over a direct connection: the API's own start-up migration then has nothing to
        // do within the short timeouts below, even on a loaded machine.
        await SchemaMigrator.MigrateAsync(environment.ConnectionString, ApplicationServices.Migrations, NullLogger.Instance, CancellationToken.None);
        await using var api = await environment.StartApiAsync(settings => settings.Database(environment.ConnectionStringVia(
            environment.PostgresProxy,
            connection =>
            {
                connection.Timeout = ConnectTimeoutSeconds;
                connection.CommandTimeout = CommandTimeoutSeconds;
            })));
        // The worker reaches the database directly: the outage is the API's.
        await environment.StartWorkerAsync();
        using var client = api.CreateApiClient();
        var steady = TestUser.New("steady");
        (await client.RegisterAsync(steady)).StatusCode.Should().Be(HttpStatusCode.Created);

        await using var traffic = new Traffic(api.CreateApiClient(), steady);
        await Eventually.HoldsAsync(() => traffic.AnswerCount >= 20, "traffic is flowing", TimeSpan.FromSeconds(20));

        await OutageAsync("database down (connections reset, new ones refused)", environment.PostgresProxy.TurnOffAsync, QuickAnswer, client, traffic);
        await RecoveryAsync(client);
        await OutageAsync("network partition (connections silent)", () => { environment.PostgresProxy.Stall(); return Task.CompletedTask; }, CaughtAnswer, client, traffic);
        await RecoveryAsync(client);

        var answers = await traffic.StopAsync();
        Report(answers);
        answers.Should().NotContain(a => a.Status == HttpStatusCode.InternalServerError);
        answers.Where(a => (int)a.Status >= 500).Should().OnlyContain(
            a => a.Status == HttpStatusCode.ServiceUnavailable && a.ProblemType == "/problems/unavailable",
            "a database outage is 503 unavailable, never a 500");
        foreach (var answer in answers)
        {
            answer.Elapsed.Should().BeLessThan(BoundFor(answer), $"no request hangs on a dead database ({answer})");
        }

        answers.Where(a => _outages.Any(o => o.Contains(a))).Should().OnlyContain(
            a => a.Status == HttpStatusCode.ServiceUnavailable, "nothing can succeed while the database is away");

        var partial = await environment.Database.FindPartialRecordsAsync();
        output.WriteLine($"Half-written records: {partial.UsersWithoutCode} users without a code, {partial.CodesWithoutOutboxRow} codes without an outbox row.");
        partial.Should().Be(new PartialRecords(0, 0));

        // Everyone who got a 201 is emailed, and so is anyone whose registration committed although its answer was lost.
        var created = answers.Where(a => a.Status == HttpStatusCode.Created).Select(a => a.User).Append(steady).ToList();
        var refused = answers.Where(a => a.Action == "register" && a.Status == HttpStatusCode.ServiceUnavailable).Select(a => a.User).ToList();
        var committedAnyway = new List<TestUser>();
        foreach (var user in refused)
        {
            if (await environment.Database.GetUserIdAsync(user.Email) is { } id)
            {
                user.Id = id;
                committedAnyway.Add(user);
            }
        }

        output.WriteLine($"{refused.Count} registrations answered 503; {committedAnyway.Count} of them committed anyway (the answer was lost with the connection).");
        var counts = await Deliveries.WaitForAllAsync([.. created, .. committedAnyway], environment.Provider, environment.Database, TimeSpan.FromSeconds(60));
        output.WriteLine($"Counts ({created.Count} answered 201 + {committedAnyway.Count} committed despite a 503): {counts}.");
        counts.Lost.Should().Be(0);
    }

    private async Task OutageAsync(string name, Func<Task> cut, TimeSpan bound, HttpClient client, Traffic traffic)
    {
        var outage = new Outage(name, bound, traffic.Now);
        await cut();
        traffic.Outage = outage;
        output.WriteLine($"Cut: {name}.");

        // Readiness notices within its check's timeout; liveness is about the process and stays 200.
        var probing = Stopwatch.StartNew();
        using var ready = await Eventually.GetAsync(
            () => client.GetAsync("/health/ready"), response => response.StatusCode == HttpStatusCode.ServiceUnavailable,
            "/health/ready answers 503", TimeSpan.FromSeconds(20));
        (await ready.ProblemTypeAsync()).Should().Be("/problems/unavailable");
        using var live = await client.GetAsync("/health/live");
        live.StatusCode.Should().Be(HttpStatusCode.OK);
        // A client that prefers HTML still gets the contract's answer.
        using var html = new HttpRequestMessage(HttpMethod.Post, "/v1/users")
        {
            Content = JsonContent.Create(new { email = TestUser.New("html").Email, password = ApiRequests.DefaultPassword }),
            Headers = { { "Accept", "text/html" } },
        };
        using var htmlAnswer = await client.SendAsync(html);
        htmlAnswer.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await htmlAnswer.ProblemTypeAsync()).Should().Be("/problems/unavailable", "the answer is a problem document even for a client that prefers HTML");
        output.WriteLine($"  /health/ready 503 after {probing.Elapsed.TotalSeconds:0.0} s; /health/live {(int)live.StatusCode}.");

        // Long enough for every request caught by the cut to run into its timeout, and for fresh ones to follow.
        var seen = traffic.AnswerCount;
        await Eventually.HoldsAsync(
            () => traffic.AnswerCount >= seen + 20 && traffic.Now - outage.Cut > bound,
            "traffic during the outage",
            TimeSpan.FromSeconds(60));
        traffic.Outage = null;
        outage.Restored = traffic.Now;
        _outages.Add(outage);
        environment.PostgresProxy.TurnOn();
    }

    private async Task RecoveryAsync(HttpClient client)
    {
        var restored = Stopwatch.StartNew();
        await Eventually.HoldsAsync(
            async () =>
            {
                using var ready = await client.GetAsync("/health/ready");
                return ready.StatusCode == HttpStatusCode.OK;
            },
            "/health/ready is 200 again",
            TimeSpan.FromSeconds(30));

        // Pooled connections broken by the outage fail once each: poll until a registration goes through.
        await Eventually.HoldsAsync(
            async () =>
            {
                using var response = await client.RegisterAsync(TestUser.New("probe"));
                return response.StatusCode == HttpStatusCode.Created;
            },
            "registrations work again",
            TimeSpan.FromSeconds(30));
        var recovered = restored.Elapsed;
        for (var i = 0; i < 5; i++)
        {
            var user = TestUser.New("after");
            using var registered = await client.RegisterAsync(user);
            registered.StatusCode.Should().Be(HttpStatusCode.Created);
            using var me = await client.GetMeAsync(user);
            me.StatusCode.Should().Be(HttpStatusCode.OK);
            var code = (await environment.Database.GetLatestCodesAsync([user.Id]))[user.Id].Code;
            using var activated = await client.ActivateAsync(user, code);
            activated.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        output.WriteLine($"Restored: working again after {recovered.TotalSeconds:0.0} s; 5 new users registered, read and activated.");
    }

    private TimeSpan BoundFor(Answer answer) =>
        _outages.Where(outage => outage.Overlaps(answer)).Select(outage => outage.Bound).Append(QuickAnswer).Max();

    private void Report(IReadOnlyList<Answer> answers)
    {
        foreach (var outage in _outages)
        {
            var during = answers.Where(outage.Overlaps).ToList();
            var caught = during.Where(a => a.Started < outage.Cut + CaughtAnswer - QuickAnswer).ToList();
            var arrived = during.Except(caught).ToList();
            output.WriteLine(
                $"  {outage.Name}: {during.Count} requests ({Describe(during)}); slowest {Max(caught)} among those under way "
                + $"or started in the first {(CaughtAnswer - QuickAnswer).TotalSeconds:0} s, {Max(arrived)} after that.");
            if (outage.Bound > QuickAnswer)
            {
                arrived.Should().OnlyContain(a => a.Elapsed < QuickAnswer, "once the connections caught by the partition have failed, requests fail fast");
            }
        }

        var calm = answers.Where(a => !_outages.Any(o => o.Overlaps(a))).ToList();
        output.WriteLine($"  outside the outages: {calm.Count} requests ({Describe(calm)}); slowest {Max(calm)}.");
    }

    private static string Describe(IEnumerable<Answer> answers) =>
        Tally.Of(answers, a => $"{(int)a.Status}{(a.ProblemType is { } type ? " " + type : string.Empty)}");

    private static string Max(IReadOnlyCollection<Answer> answers) =>
        answers.Count == 0 ? "-" : $"{answers.Max(a => a.Elapsed).TotalMilliseconds:0} ms";

    private sealed class Outage(string name, TimeSpan bound, TimeSpan cut)
    {
        public string Name { get; } = name;

        public TimeSpan Bound { get; } = bound;

        public TimeSpan Cut { get; } = cut;

        public TimeSpan Restored { get; set; } = TimeSpan.MaxValue;

        /// <summary>The request ran while the database was away, for part of its time at least.</summary>
        public bool Overlaps(Answer answer) => answer.Started < Restored && answer.Started + answer.Elapsed > Cut;

        /// <summary>The request ran entirely while the database was away.</summary>
        public bool Contains(Answer answer) => answer.Started >= Cut && answer.Started + answer.Elapsed <= Restored;
    }

    private sealed record Answer(string Action, HttpStatusCode Status, string? ProblemType, TimeSpan Started, TimeSpan Elapsed, TestUser User)
    {
        public override string ToString() =>
            $"{Action} at {Started.TotalSeconds:0.00} s took {Elapsed.TotalMilliseconds:0} ms: {(int)Status} {ProblemType}";
    }

    /// <summary>Four clients in a loop: sign-ups, reads of an account, and resends (mostly 429 resend-too-soon).</summary>
    private sealed class Traffic : IAsyncDisposable
    {
        private readonly HttpClient _client;
        private readonly TestUser _steady;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<Answer> _answers = new();
        private readonly Task _loops;

        public Traffic(HttpClient client, TestUser steady)
        {
            _client = client;
            _steady = steady;
            _loops = Task.WhenAll(Enumerable.Range(0, 4).Select(loop => Task.Run(() => LoopAsync(loop))));
        }

        public TimeSpan Now => _clock.Elapsed;

        /// <summary>The outage under way, if any; while there is one the loops do not pause between requests.</summary>
        public Outage? Outage { get; set; }

        public int AnswerCount => _answers.Count;

        public async Task<IReadOnlyList<Answer>> StopAsync()
        {
            await _stop.CancelAsync();
            await _loops;
            return [.. _answers];
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _stop.Dispose();
            _client.Dispose();
        }

        private async Task LoopAsync(int loop)
        {
            for (var i = loop; !_stop.IsCancellationRequested; i++)
            {
                var (action, user) = (i % 3) switch
                {
                    0 => ("register", TestUser.New("traffic")),
                    1 => ("get-me", _steady),
                    _ => ("resend", _steady),
                };
                var started = Now;
                using var response = action switch
                {
                    "register" => await _client.RegisterAsync(user),
                    "get-me" => await _client.GetMeAsync(user),
                    _ => await _client.RequestNewCodeAsync(user),
                };
                var elapsed = Now - started;
                _answers.Enqueue(new Answer(action, response.StatusCode, await response.ProblemTypeAsync(), started, elapsed, user));
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    // As a client honouring Retry-After would, roughly: no hot loop against a refusing API.
                    await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
                }
            }
        }
    }
}
