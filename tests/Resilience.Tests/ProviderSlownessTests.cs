using System.Collections.Concurrent;
using System.Diagnostics;

namespace Resilience.Tests;

/// <summary>
/// Scenario 4. The provider answers some sends only after 2 s while the worker gives each attempt 1 s:
/// those attempts time out and are retried, while the worker keeps emailing everyone else and the API
/// stays healthy. A provider that accepts a send after we stopped waiting may deliver it anyway: those
/// duplicates are counted and reported, not hidden.
/// </summary>
public sealed class ProviderSlownessTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    private const int SlowUsers = 4;
    private const int FastUsers = 20;
    private static readonly TimeSpan ProviderDelay = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task SlowSends_AreRetried_WithoutStarvingOtherEmailsOrTheApi()
    {
        await using var api = await environment.StartApiAsync();
        using var client = api.CreateApiClient();
        await environment.StartWorkerAsync(settings => settings
            .ProviderTimeouts(attempt: TimeSpan.FromSeconds(1), total: TimeSpan.FromSeconds(10))
            .Retries(http: 2, message: 5)
            .Set("Consumer:MessageRetryInitialInterval", TimeSpan.FromMilliseconds(200))
            .Set("Consumer:MessageRetryMaxInterval", TimeSpan.FromSeconds(1))
            .Consumers(concurrency: 8, prefetch: 16));
        environment.Provider.AnswerFor("slow-", ProviderAnswer.Ok(ProviderDelay));
        output.WriteLine($"Provider answers sends to slow-* after {ProviderDelay.TotalSeconds:0} s (attempt timeout 1 s), others at once.");

        using var health = new HealthSampler(api.CreateApiClient());
        var started = Stopwatch.StartNew();
        var slow = new List<TestUser>();
        var fast = new List<TestUser>();
        for (var i = 0; i < FastUsers; i++)
        {
            if (i % (FastUsers / SlowUsers) == 0)
            {
                slow.Add(await client.RegisterUserAsync(ApiRequests.UniqueEmail("slow")));
            }

            fast.Add(await client.RegisterUserAsync(ApiRequests.UniqueEmail("fast")));
        }

        output.WriteLine($"Registered {SlowUsers} slow and {FastUsers} fast users.");
        await Deliveries.WaitForAllAsync(fast, environment.Provider, environment.Database, TimeSpan.FromSeconds(20));
        var fastDone = started.Elapsed;
        await Eventually.HoldsAsync(
            () => slow.All(user => environment.Provider.Requests.Count(request => request.To == user.Email) >= 3),
            "every slow send is attempted and retried",
            TimeSpan.FromSeconds(20));
        var slowRequests = slow.Sum(user => environment.Provider.Requests.Count(request => request.To == user.Email));
        (await environment.Database.CountProcessedMessagesAsync(slow.Select(user => user.Id))).Should().Be(0,
            "no slow send has succeeded in time yet: the fast ones went past them");
        output.WriteLine(
            $"All {FastUsers} fast users emailed after {fastDone.TotalSeconds:0.0} s while the {SlowUsers} slow sends were still "
            + $"being retried ({slowRequests} attempts so far).");

        environment.Provider.Accept();
        output.WriteLine("Provider answers everyone at once again.");
        var everyone = slow.Concat(fast).ToList();
        await Deliveries.WaitForAllAsync(everyone, environment.Provider, environment.Database, TimeSpan.FromSeconds(60));
        await Eventually.HoldsAsync(
            async () => await environment.Database.CountUnprocessedMessagesAsync() == 0,
            "the worker recorded every message as processed",
            TimeSpan.FromSeconds(30));
        var samples = await health.StopAsync();

        var counts = await Deliveries.CountAsync(everyone, environment.Provider, environment.Database);
        var fastCounts = await Deliveries.CountAsync(fast, environment.Provider, environment.Database);
        var slowCounts = await Deliveries.CountAsync(slow, environment.Provider, environment.Database);
        output.WriteLine(
            $"Health: {samples.Count} probes of /health/live and /health/ready, statuses {Tally.Of(samples.Select(s => s.Status))}, "
            + $"slowest {samples.Max(s => s.Elapsed).TotalMilliseconds:0} ms.");
        output.WriteLine($"Slow users: {slowCounts}. Fast users: {fastCounts}.");
        output.WriteLine($"Counts: {counts}. Duplicates are sends the provider accepted after the worker had timed out.");

        counts.Lost.Should().Be(0);
        fastCounts.Duplicated.Should().Be(0, "a send answered in time is never repeated");
        slowCounts.ProviderRequests.Should().BeGreaterThan(SlowUsers * 2, "timed-out attempts are retried");
        samples.Should().OnlyContain(s => s.Status == HttpStatusCode.OK, "a slow provider is no reason for the API to be unhealthy");
        samples.Max(s => s.Elapsed).Should().BeLessThan(TimeSpan.FromSeconds(1), "no thread starvation");
    }

    /// <summary>Probes the API's health endpoints every 100 ms in the background until stopped.</summary>
    private sealed class HealthSampler : IDisposable
    {
        private readonly HttpClient _client;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<(HttpStatusCode Status, TimeSpan Elapsed)> _samples = new();
        private readonly Task _loop;

        public HealthSampler(HttpClient client)
        {
            _client = client;
            _loop = Task.Run(LoopAsync);
        }

        public async Task<IReadOnlyList<(HttpStatusCode Status, TimeSpan Elapsed)>> StopAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            return [.. _samples];
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
            _client.Dispose();
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                foreach (var path in (string[])["/health/live", "/health/ready"])
                {
                    var stopwatch = Stopwatch.StartNew();
                    using var response = await _client.GetAsync(path, CancellationToken.None);
                    _samples.Enqueue((response.StatusCode, stopwatch.Elapsed));
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
