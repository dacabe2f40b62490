using Registration.Api.Infrastructure;
using Registration.Testing.Fakes;

namespace Registration.Api.Tests.Unit;

/// <summary>
/// The bcrypt bulkhead with a fake bcrypt whose run time a test sets and whose runs it holds and releases:
/// admission by expected wait (place in the queue × recent run time ÷ slots, against the queue timeout),
/// refusal at once, every admitted request served, a per-client share of the slots, and slots and shares
/// given back whatever happens. Nothing sleeps.
/// </summary>
public sealed class PasswordHasherTests : IDisposable
{
    private const string Alice = "192.0.2.1";
    private const string Bob = "192.0.2.2";
    private const string Carol = "192.0.2.3";
    private const string Dave = "2001:db8:0:1::/64";

    private readonly FakeBcrypt _bcrypt = new() { RunTime = TimeSpan.FromSeconds(1) };

    public void Dispose() => _bcrypt.Dispose();

    [Fact]
    public async Task VerifyAsync_AcceptsTheHashedPassword_AndNoOther()
    {
        var hasher = Create();
        var hash = await Hash(hasher, Alice);

        (await hasher.VerifyAsync("correct horse", hash, Alice, CancellationToken.None)).Should().BeTrue();
        (await hasher.VerifyAsync("correct horsE", hash, Alice, CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task VerifyAsync_WithNoStoredHash_TheUnknownUserCase_RunsBcryptAnyway_AndFails()
    {
        var hasher = Create();
        var runsBefore = _bcrypt.Runs;

        (await hasher.VerifyAsync("any password", hash: null, Alice, CancellationToken.None)).Should().BeFalse();
        _bcrypt.Runs.Should().Be(runsBefore + 1, "an unknown email costs one bcrypt run, like a wrong password");
    }

    [Fact]
    public async Task Runs_HappenOnThreadsOfTheirOwn_NotOnThePool()
    {
        var hasher = Create();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Hash(hasher, $"192.0.2.{i + 1}")));

        _bcrypt.RanOnThreadPool.Should().HaveCount(9).And.OnlyContain(onPool => !onPool,
            "bcrypt holds its thread for its whole run; on the pool it would starve cheap requests");
    }

    // ---- Admission by expected wait --------------------------------------------------------------

    [Fact]
    public async Task ARequestFindingEverySlotBusy_IsQueuedOnlyWhenItsExpectedWaitFits_AndRefusedAtOnceOtherwise()
    {
        // One slot, runs of 1 s, 2.5 s allowed: the 1st and 2nd in the queue expect 1 s and 2 s; the 3rd, 3 s.
        var hasher = Create(slots: 1, queueTimeout: TimeSpan.FromSeconds(2.5));
        var running = (await OccupySlotsAsync(hasher, Alice)).Single();

        var first = Hash(hasher, Bob);
        var second = Hash(hasher, Carol);
        var third = Hash(hasher, Dave);

        first.IsCompleted.Should().BeFalse("an expected wait of 1 s fits in 2.5 s: queued");
        second.IsCompleted.Should().BeFalse("2 s fits: queued");
        third.IsFaulted.Should().BeTrue("3 s does not fit: refused at once, not after waiting");
        var refusal = (await third.Invoking(task => task).Should().ThrowAsync<ServiceBusyException>()).Which;
        refusal.RetryAfter.Should().Be(TimeSpan.FromSeconds(3), "Retry-After is the expected wait");
        hasher.Load.Should().Be((1, 2, 3));

        _bcrypt.Release();
        (await Task.WhenAll(running, first, second)).Should().AllBe(FakeBcrypt.HashOf("correct horse"));
        hasher.Load.Should().Be((0, 0, 0));
    }

    [Fact]
    public async Task TheExpectedWait_IsThePlaceInTheQueue_TimesTheRunTime_DividedByTheSlots()
    {
        // Two slots, runs of 1 s, 1 s allowed: queued 1st and 2nd expect 0.5 s and 1 s (admitted), 3rd 1.5 s.
        var hasher = Create(slots: 2, queueTimeout: TimeSpan.FromSeconds(1));
        var running = await OccupySlotsAsync(hasher, Alice, Bob);

        var queued = new[] { Carol, Dave }.Select(client => Hash(hasher, client)).ToList();
        var refused = Hash(hasher, "192.0.2.5");

        queued.Should().OnlyContain(task => !task.IsCompleted);
        (await refused.Invoking(task => task).Should().ThrowAsync<ServiceBusyException>())
            .Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(1.5));
        _bcrypt.Release();
        await Task.WhenAll(running.Concat(queued));
    }

    [Fact]
    public async Task AnAdmittedRequest_IsServed_HoweverLongItThenWaits()
    {
        // Admitted expecting 1 s; the run ahead of it then takes 10 s, far past the 1.5 s allowed.
        var hasher = Create(slots: 1, queueTimeout: TimeSpan.FromSeconds(1.5));
        var running = (await OccupySlotsAsync(hasher, Alice)).Single();
        var admitted = Hash(hasher, Bob);
        admitted.IsCompleted.Should().BeFalse();

        _bcrypt.RunTime = TimeSpan.FromSeconds(10);
        _bcrypt.Release();

        (await admitted).Should().Be(FakeBcrypt.HashOf("correct horse"), "admission is the only refusal: an admitted request is served");
        await running;
    }

    [Fact]
    public async Task TheRecentRunTime_FollowsTheRunsAsTheyEnd()
    {
        var hasher = Create();
        hasher.RecentHashTime.Should().Be(TimeSpan.FromSeconds(1), "the start-up run is the first estimate");

        _bcrypt.RunTime = TimeSpan.FromMilliseconds(200);
        await Hash(hasher, Alice);
        hasher.RecentHashTime.Should().BeCloseTo(TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(1), "1 s + 0.25 × (0.2 s − 1 s)");

        await hasher.VerifyAsync("correct horse", null, Alice, CancellationToken.None);
        hasher.RecentHashTime.Should().BeCloseTo(TimeSpan.FromMilliseconds(650), TimeSpan.FromMilliseconds(1), "verifies count like hashes");
    }

    [Fact]
    public async Task TheQueueLimit_StillBounds_WhenTheWaitWouldFit()
    {
        var hasher = Create(slots: 1, queueLimit: 1, queueTimeout: TimeSpan.FromMinutes(1));
        var running = (await OccupySlotsAsync(hasher, Alice)).Single();
        var queued = Hash(hasher, Bob);

        await hasher.Invoking(h => Hash(h, Carol)).Should().ThrowAsync<ServiceBusyException>();

        _bcrypt.Release();
        await Task.WhenAll(running, queued);
    }

    [Fact]
    public async Task AQueuedRequestWhoseCallerLeaves_GivesBackItsPlaceAndItsShare_AndNeverRuns()
    {
        var hasher = Create(slots: 1, slotsPerClient: 2, queueTimeout: TimeSpan.FromMinutes(1));
        var running = (await OccupySlotsAsync(hasher, Alice)).Single();
        using var leaving = new CancellationTokenSource();
        var abandoned = Hash(hasher, Bob, leaving.Token);
        var staying = Hash(hasher, Bob);

        await leaving.CancelAsync();

        await abandoned.Invoking(task => task).Should().ThrowAsync<OperationCanceledException>();
        hasher.Load.Should().Be((1, 1, 2), "the abandoned request left the queue and Bob's share");
        var again = Hash(hasher, Bob);
        again.IsCompleted.Should().BeFalse("Bob holds one slot again, within his share of two");
        var runsBefore = _bcrypt.Runs;
        _bcrypt.Release();
        await Task.WhenAll(running, staying, again);
        _bcrypt.Runs.Should().Be(runsBefore + 2, "the abandoned request never ran");
        hasher.Load.Should().Be((0, 0, 0));
    }

    // ---- Fairness ----------------------------------------------------------------------------------

    [Fact]
    public async Task AClientPastItsShare_Gets429AtOnce_WhileOtherClientsAreStillAdmitted()
    {
        var hasher = Create(slots: 2, slotsPerClient: 2, queueTimeout: TimeSpan.FromMinutes(1));
        var alices = await OccupySlotsAsync(hasher, Alice, Alice);

        var third = Hash(hasher, Alice);
        var bobs = Hash(hasher, Bob);

        third.IsFaulted.Should().BeTrue("past its share a client is refused at once");
        var refusal = (await third.Invoking(task => task).Should().ThrowAsync<TooManyRequestsException>()).Which;
        refusal.RetryAfter.Should().Be(TimeSpan.FromSeconds(1));
        refusal.ProblemType.Should().Be(ProblemTypes.TooManyRequests);
        bobs.IsCompleted.Should().BeFalse("another client keeps its share: queued, not refused");
        _bcrypt.Release();
        await Task.WhenAll([.. alices, bobs]);
    }

    [Fact]
    public async Task TheShare_CountsQueuedRequests_AndIsGivenBackWhenARunEnds()
    {
        var hasher = Create(slots: 1, slotsPerClient: 2, queueTimeout: TimeSpan.FromMinutes(1));
        var running = (await OccupySlotsAsync(hasher, Alice)).Single();
        var queued = Hash(hasher, Alice);

        await hasher.Invoking(h => Hash(h, Alice)).Should().ThrowAsync<TooManyRequestsException>(
            "one running and one queued is the whole share");

        _bcrypt.Release();
        await Task.WhenAll(running, queued);
        (await Hash(hasher, Alice)).Should().NotBeNull("the share came back with the runs");
    }

    [Fact]
    public async Task RequestsWithNoClientAddress_AreBoundOnlyByTheWholeBulkhead()
    {
        var hasher = Create(slots: 1, slotsPerClient: 1, queueTimeout: TimeSpan.FromMinutes(1));
        var requests = await OccupySlotsAsync(hasher, ClientAddress.Unknown);
        requests.AddRange(Enumerable.Range(0, 2).Select(_ => Hash(hasher, ClientAddress.Unknown)));

        requests.Should().OnlyContain(task => !task.IsCompleted, "without an address clients cannot be told apart; the bulkhead still bounds them");
        _bcrypt.Release();
        await Task.WhenAll(requests);
    }

    [Fact]
    public async Task ThrowIfSaturated_RefusesAsARequestWouldBe_WithoutTakingASlot()
    {
        var hasher = Create(slots: 1, queueLimit: 0, slotsPerClient: 1);
        hasher.Invoking(h => h.ThrowIfSaturated(Alice)).Should().NotThrow();
        var running = (await OccupySlotsAsync(hasher, Alice)).Single();

        hasher.Invoking(h => h.ThrowIfSaturated(Alice)).Should().Throw<TooManyRequestsException>("Alice holds her share");
        hasher.Invoking(h => h.ThrowIfSaturated(Bob)).Should().Throw<ServiceBusyException>("the one slot is busy and there is no queue");
        hasher.Load.Should().Be((1, 0, 1), "checking takes nothing");

        _bcrypt.Release();
        await running;
        hasher.Invoking(h => h.ThrowIfSaturated(Bob)).Should().NotThrow();
    }

    [Fact]
    public async Task ManyRoundsOfRacingRequestsAndDepartures_LeaveNoSlotOrShareBehind_AndRunEachServedRequestOnce()
    {
        // Each round: twelve requests from four clients at once against 2 running + 4 queued, a share of 2,
        // a random third of the callers leaving while the runs are released. Whatever the interleaving: a
        // client never has more than its share served, every served request ran exactly once, and the
        // hasher ends idle.
        var hasher = Create(slots: 2, queueLimit: 4, slotsPerClient: 2, queueTimeout: TimeSpan.FromMinutes(1));
        string[] clients = [Alice, Bob, Carol, Dave];
        var random = new Random(20261201);
        for (var round = 0; round < 100; round++)
        {
            _bcrypt.Hold();
            var runsBefore = _bcrypt.Runs;
            var departures = Enumerable.Range(0, 12).Select(_ => new CancellationTokenSource()).ToList();
            var made = 0;
            var requests = Enumerable.Range(0, 12).Select(i => Task.Run(() =>
            {
                var request = Hash(hasher, clients[i % clients.Length], departures[i].Token);
                Interlocked.Increment(ref made);
                return request;
            })).ToList();
            await Eventually.HoldsAsync(() => Volatile.Read(ref made) == 12, "all twelve requests made");

            var leaving = departures.Where(_ => random.Next(3) == 0).ToList();
            await Task.WhenAll(Task.Run(_bcrypt.Release), Task.WhenAll(leaving.Select(departure => departure.CancelAsync())));
            var outcomes = await Task.WhenAll(requests.Select(async (request, i) =>
            {
                try
                {
                    await request;
                    return (Client: i % clients.Length, Outcome: "served");
                }
                catch (Exception exception) when (exception is TooManyRequestsException or ServiceBusyException or OperationCanceledException)
                {
                    return (Client: i % clients.Length, Outcome: exception.GetType().Name);
                }
            }));

            var served = outcomes.Where(outcome => outcome.Outcome == "served").ToList();
            served.GroupBy(outcome => outcome.Client).Should().OnlyContain(group => group.Count() <= 2, $"round {round}: nobody is served past its share");
            served.Should().HaveCountLessThanOrEqualTo(6, $"round {round}: 2 running and 4 queued at most");
            (_bcrypt.Runs - runsBefore).Should().Be(served.Count, $"round {round}: each served request ran once, and nothing else ran");
            hasher.Load.Should().Be((0, 0, 0), $"round {round}: every slot and share given back");
            departures.ForEach(departure => departure.Dispose());
        }
    }

    /// <summary>Holds bcrypt and starts one run per client; returns once they all occupy a slot.</summary>
    private async Task<List<Task<string>>> OccupySlotsAsync(PasswordHasher hasher, params string[] clients)
    {
        _bcrypt.Hold();
        var runs = clients.Select(client => Hash(hasher, client)).ToList();
        await _bcrypt.WaitUntilRunningAsync(clients.Length);
        return runs;
    }

    private static Task<string> Hash(PasswordHasher hasher, string client, CancellationToken cancellationToken = default) =>
        hasher.HashAsync("correct horse", client, cancellationToken);

    private PasswordHasher Create(
        int slots = 2, int queueLimit = 16, int slotsPerClient = 2, TimeSpan? queueTimeout = null) =>
        new(
            new SecurityOptions
            {
                BcryptWorkFactor = 4,
                HashingConcurrency = slots,
                HashingQueueLimit = queueLimit,
                HashingSlotsPerClient = slotsPerClient,
                HashingQueueTimeout = queueTimeout ?? TimeSpan.FromSeconds(2),
            },
            _bcrypt,
            _bcrypt.Stopwatch);
}
