using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// bcrypt fairness over real sockets, client addresses named through the trusted (loopback) proxy: one client
/// holds at most <c>Security:HashingSlotsPerClient</c> bcrypt slots, running or queued; past that it gets 429
/// <c>too-many-requests</c> with <c>Retry-After: 1</c> at once, and other clients keep theirs. 503
/// <c>unavailable</c> only when the whole service is past its bound. Run with each bcrypt implementation.
/// No timing is asserted; the figures are printed for the record.
/// </summary>
public abstract class BcryptFairnessTests<TApi>(TApi factory, ITestOutputHelper output)
    where TApi : BcryptFairnessTests<TApi>.FairnessApi
{
    /// <summary>Issue 11's reproduction: 40 concurrent Basic-auth requests from one client address.</summary>
    private const int FloodConcurrency = 40;
    private const int OtherClients = 3;

    /// <summary>
    /// Kestrel, bcrypt at a realistic cost behind the production-shaped bulkhead (two at once, sixteen waiting),
    /// the default share of two slots per client, and loopback as the trusted proxy.
    /// </summary>
    public abstract class FairnessApi : KestrelApiFixture
    {
        public const int WorkFactor = 10;
        public const int HashingConcurrency = 2;
        public const int HashingQueueLimit = 16;
        public const int SlotsPerClient = 2;

        /// <summary><c>Security:HashingQueueTimeout</c>, the default: the longest expected wait admitted.</summary>
        public static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(2);

        /// <summary><c>Security:BcryptImplementation</c>: Native or Managed.</summary>
        public abstract string Implementation { get; }

        // Every refusal is a log line: hundreds of them would measure the logger, not the bulkhead.
        protected override void Configure(TestSettings settings) => settings
            .BcryptWorkFactor(WorkFactor)
            .BcryptImplementation(Implementation)
            .Hashing(HashingConcurrency, HashingQueueLimit)
            .HashingSlotsPerClient(SlotsPerClient)
            .TrustLoopbackProxy()
            .LogLevel("None", "Registration.Api.Infrastructure.ProblemExceptionHandler");
    }

    [Fact]
    public async Task OneClientFloodingBasicAuth_IsRefusedPastItsShare_WhileOtherClientsSignUp()
    {
        using var setup = factory.CreateClient().From(ClientAddresses.Next());
        var flooder = await setup.RegisterUserAsync();
        using var floodClient = factory.CreateClient().From(ClientAddresses.Next());
        var flood = new ConcurrentQueue<Answer>();
        var saturated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();

        // A closed loop per flooder: each sends its next request as soon as the previous one is answered, or
        // as soon as Retry-After says (as client libraries and the benchmark do: a client that retries a 429
        // at once measures the CPU its own retry storm costs, not the fairness of bcrypt). So the client
        // asks for 40 slots all the time the other clients are signing up.
        var flooders = Enumerable.Range(0, FloodConcurrency).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var answer = await Answer.OfAsync(() => floodClient.GetMeAsync(flooder.Credentials));
                flood.Enqueue(answer);
                if (answer.Status is 429 or 503)
                {
                    saturated.TrySetResult();
                    try
                    {
                        await Task.Delay(answer.RetryAfter ?? TimeSpan.FromSeconds(1), stop.Token);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        break;
                    }
                }
            }
        })).ToArray();

        await saturated.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var signUps = await Task.WhenAll(Enumerable.Range(0, OtherClients).Select(async _ =>
        {
            using var client = factory.CreateClient().From(ClientAddresses.Next());
            return await Answer.OfAsync(() => client.RegisterAsync(TestUser.New("other-client")));
        }));
        var signInElsewhere = await Answer.OfAsync(() => setup.GetMeAsync(flooder.Credentials));
        await stop.CancelAsync();
        await Task.WhenAll(flooders);

        Report(flood.ToList(), signUps, signInElsewhere);
        signUps.Select(answer => answer.Status).Should().AllBeEquivalentTo(201, "other clients keep their share of bcrypt during the flood");
        signInElsewhere.Status.Should().Be(200, "the flooded account signs in from another client: the share is per client, not per account");
        flood.Select(answer => answer.Status).Should().OnlyContain(status => status == 200 || status == 429 || status == 503);
        flood.Should().NotContain(answer => answer.Status == 503 && !(answer.RetryAfter > FairnessApi.QueueTimeout),
            "past its share the flooding client is told to slow down (429); a 503 only when the whole service is past its bound, "
            + "i.e. the request's expected wait (its Retry-After) exceeds the queue timeout");
        flood.Should().Contain(answer => answer.Status == 200, "the flooding client keeps its own share");
        flood.Where(answer => answer.Status == 429).Should().NotBeEmpty()
            .And.OnlyContain(answer => answer.ProblemType == "/problems/too-many-requests" && answer.RetryAfter == TimeSpan.FromSeconds(1),
                "a refusal over the share is 429 too-many-requests with Retry-After: 1");
    }

    [Fact]
    public async Task ManyClientsWithinTheirShares_Get503Unavailable_OnlyPastTheWholeBound()
    {
        // Twenty clients, each asking for exactly its share at once: 40 bcrypt runs against a bound of 2 running
        // and 16 waiting. Nobody is over its share (no 429); what does not fit is 503 unavailable.
        const int clients = 20;
        using var setup = factory.CreateClient();
        var user = await setup.RegisterUserAsync();
        var clientsOfTheLoad = Enumerable.Range(0, clients).Select(_ => factory.CreateClient().From(ClientAddresses.Next())).ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var requests = clientsOfTheLoad.SelectMany(client => Enumerable.Range(0, FairnessApi.SlotsPerClient).Select(async _ =>
        {
            await start.Task;
            return await Answer.OfAsync(() => client.GetMeAsync(user.Credentials));
        })).ToList();
        start.SetResult();
        var answers = await Task.WhenAll(requests);
        clientsOfTheLoad.ForEach(client => client.Dispose());

        output.WriteLine($"{clients} clients x {FairnessApi.SlotsPerClient} Basic-auth requests at once against {FairnessApi.HashingConcurrency} running + "
            + $"{FairnessApi.HashingQueueLimit} waiting: {Tally.Of(answers, answer => answer.Status.ToString(CultureInfo.InvariantCulture))}");
        answers.Select(answer => answer.Status).Should().OnlyContain(status => status == 200 || status == 503, "no client is over its share");
        answers.Should().Contain(answer => answer.Status == 503, "40 runs do not fit in 2 running and 16 waiting")
            .And.Contain(answer => answer.Status == 200);
        answers.Where(answer => answer.Status == 503).Should().OnlyContain(
            answer => answer.ProblemType == "/problems/unavailable" && answer.RetryAfter >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task TheBcryptImplementation_IsChosenAndLoggedAsTheApiStarts_BeforeAnyRequest()
    {
        await using var api = await factory.StartApiAsync(settings => settings
            .BcryptImplementation(factory.Implementation)
            .LogLevel("Information", "Registration.Api.Infrastructure.PasswordHasher"));

        api.Logs.Lines.Should().Contain(line => line.EventName == "Bcrypt" + factory.Implementation
            && line.Message.StartsWith($"Password hashing: {factory.Implementation.ToLowerInvariant()} bcrypt", StringComparison.Ordinal),
            "the choice (and, for native, its self-test) is made and logged at start-up, not on the first request");
    }

    private void Report(List<Answer> flood, Answer[] signUps, Answer signInElsewhere)
    {
        static LatencyStats Latencies(IEnumerable<Answer> answers)
        {
            var stats = new LatencyStats();
            foreach (var answer in answers)
            {
                stats.Add(answer.Milliseconds);
            }

            return stats;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            bcrypt: {factory.Implementation}, work factor {FairnessApi.WorkFactor}; bulkhead {FairnessApi.HashingConcurrency} running + {FairnessApi.HashingQueueLimit} waiting, {FairnessApi.SlotsPerClient} slots per client; {Environment.ProcessorCount} CPUs, Kestrel.
            Flooding client: {FloodConcurrency} concurrent closed loops of Basic-auth GET /v1/users/me honouring Retry-After, {flood.Count} requests: {Tally.Of(flood, answer => answer.Status.ToString(CultureInfo.InvariantCulture))}.
              refused (429): {Latencies(flood.Where(answer => answer.Status == 429)).Summary()}
              served (200):  {Latencies(flood.Where(answer => answer.Status == 200)).Summary()}
            Other clients during the flood: sign-ups {string.Join(", ", signUps.Select(answer => $"{answer.Status} in {answer.Milliseconds:0} ms"))}; the flooded account from another client {signInElsewhere.Status} in {signInElsewhere.Milliseconds:0} ms.
            """));
    }

    /// <summary>What a test keeps of one response: status, time to answer, Retry-After and problem type.</summary>
    private sealed record Answer(int Status, double Milliseconds, TimeSpan? RetryAfter, string? ProblemType)
    {
        public static async Task<Answer> OfAsync(Func<Task<HttpResponseMessage>> send)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await send();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return new Answer((int)response.StatusCode, elapsed, response.Headers.RetryAfter?.Delta, await response.ProblemTypeAsync());
        }
    }
}

public sealed class NativeBcryptFairnessTests(NativeBcryptFairnessTests.Api factory, ITestOutputHelper output)
    : BcryptFairnessTests<NativeBcryptFairnessTests.Api>(factory, output), IClassFixture<NativeBcryptFairnessTests.Api>
{
    public sealed class Api : FairnessApi
    {
        public override string Implementation => "Native";
    }
}

public sealed class ManagedBcryptFairnessTests(ManagedBcryptFairnessTests.Api factory, ITestOutputHelper output)
    : BcryptFairnessTests<ManagedBcryptFairnessTests.Api>(factory, output), IClassFixture<ManagedBcryptFairnessTests.Api>
{
    public sealed class Api : FairnessApi
    {
        public override string Implementation => "Managed";
    }
}
