using Microsoft.Extensions.Options;

namespace Registration.Api.Infrastructure;

/// <summary>
/// bcrypt behind a fair bulkhead. bcrypt is deliberately slow CPU work: unbounded, a flood of sign-ups or
/// Basic-auth requests would occupy every core and thread and starve everything else, health checks included.
/// <list type="bullet">
/// <item>At most <c>HashingConcurrency</c> runs at once (one per core by default), each on a thread of its own.</item>
/// <item>
/// Admission by expected wait: a request that finds every slot busy joins the queue only when its expected wait
/// (its place in the queue × the recent hash time ÷ the slots) fits within <c>HashingQueueTimeout</c> and the
/// queue has room (<c>HashingQueueLimit</c>); otherwise it is refused at once, 503 with that wait as Retry-After,
/// instead of waiting to be refused. A request that is admitted is served, however long it then waits.
/// </item>
/// <item>
/// Fairness: one client (<see cref="ClientAddress"/>) holds at most <c>HashingSlotsPerClient</c> slots, running or
/// queued; past that it gets 429 at once, so a flood from one client is that client's problem, and 503 means the
/// whole service is past its bound. A request with no client address ("unknown", e.g. over a Unix socket) cannot
/// be told apart from others and is bounded by the whole bulkhead only.
/// </item>
/// </list>
/// </summary>
public sealed class PasswordHasher
{
    /// <summary>Weight of the newest run in the recent hash time (an exponential moving average).</summary>
    private const double Smoothing = 0.25;

    private static readonly TimeSpan OverShareRetryAfter = TimeSpan.FromSeconds(1);

    private readonly IBcrypt _bcrypt;
    private readonly TimeProvider _stopwatch;
    private readonly RegistrationMetrics? _metrics;
    private readonly int _slots;
    private readonly int _queueLimit;
    private readonly TimeSpan _maxExpectedWait;
    private readonly int _slotsPerClient;
    private readonly int _workFactor;
    private readonly string _dummyHash;

    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _queue = new();
    private readonly Dictionary<string, int> _heldByClient = new(StringComparer.Ordinal);
    private int _running;
    private double _recentHashSeconds;

    public PasswordHasher(IOptions<SecurityOptions> options, RegistrationMetrics metrics, ILogger<PasswordHasher> logger)
        : this(
            (options ?? throw new ArgumentNullException(nameof(options))).Value,
            BcryptSelection.Select(options.Value.BcryptImplementation, logger),
            TimeProvider.System,
            metrics)
    {
    }

    /// <param name="stopwatch">Times the bcrypt runs (the wall clock in production, never the business clock).</param>
    internal PasswordHasher(SecurityOptions security, IBcrypt bcrypt, TimeProvider stopwatch, RegistrationMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(security);
        _bcrypt = bcrypt;
        _stopwatch = stopwatch;
        _metrics = metrics;
        _slots = security.HashingConcurrency > 0 ? security.HashingConcurrency : Environment.ProcessorCount;
        _queueLimit = security.HashingQueueLimit;
        _maxExpectedWait = security.HashingQueueTimeout;
        _slotsPerClient = security.HashingSlotsPerClient;
        _workFactor = security.BcryptWorkFactor;

        // Verified against when the email is unknown, so that answer costs the same as a wrong password. Its
        // time is the first estimate of a run, until real runs replace it.
        var started = stopwatch.GetTimestamp();
        _dummyHash = bcrypt.Hash(Guid.NewGuid().ToString(), _workFactor);
        _recentHashSeconds = stopwatch.GetElapsedTime(started).TotalSeconds;
        metrics?.PasswordHashingImplementation(bcrypt.Name);
    }

    /// <summary><c>native</c> or <c>managed</c>.</summary>
    public string Implementation => _bcrypt.Name;

    /// <summary>The recent time of one bcrypt run, as admission estimates it.</summary>
    internal TimeSpan RecentHashTime
    {
        get
        {
            lock (_gate)
            {
                return TimeSpan.FromSeconds(_recentHashSeconds);
            }
        }
    }

    /// <summary>Runs under way, requests queued, and clients holding slots: all zero when the hasher is idle.</summary>
    internal (int Running, int Queued, int Clients) Load
    {
        get
        {
            lock (_gate)
            {
                return (_running, _queue.Count, _heldByClient.Count);
            }
        }
    }

    /// <summary>
    /// Throws what <see cref="HashAsync"/> or <see cref="VerifyAsync"/> would throw at once for
    /// <paramref name="client"/> right now: a caller refuses before any database work, so refusal stays cheap.
    /// </summary>
    /// <exception cref="TooManyRequestsException">The client holds its whole share.</exception>
    /// <exception cref="ServiceBusyException">The request would not be admitted to the queue.</exception>
    public void ThrowIfSaturated(string client)
    {
        lock (_gate)
        {
            ThrowIfRefused(client);
        }
    }

    public Task<string> HashAsync(string password, string client, CancellationToken cancellationToken) =>
        RunAsync(client, () => _bcrypt.Hash(password, _workFactor), cancellationToken);

    /// <summary>Verifies <paramref name="password"/>; with no hash (unknown user) it burns the same time and fails.</summary>
    public Task<bool> VerifyAsync(string password, string? hash, string client, CancellationToken cancellationToken) =>
        RunAsync(client, () => _bcrypt.Verify(password, hash ?? _dummyHash) && hash is not null, cancellationToken);

    private async Task<T> RunAsync<T>(string client, Func<T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        cancellationToken.ThrowIfCancellationRequested();
        Waiter? waiter = null;
        lock (_gate)
        {
            ThrowIfRefused(client);
            _heldByClient[client] = _heldByClient.GetValueOrDefault(client) + 1;
            if (_running < _slots)
            {
                _running++;
            }
            else
            {
                waiter = new Waiter();
                waiter.Node = _queue.AddLast(waiter);
            }
        }

        if (waiter is not null)
        {
            // Admitted: wait for a slot without a timeout. Only the caller going away takes the request out.
            await using (cancellationToken.Register(() => Abandon(waiter, client)))
            {
                await waiter.Granted.Task;
            }
        }

        double? seconds = null;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            // On a thread of its own, not a thread-pool one: bcrypt holds its thread for tens to hundreds of
            // milliseconds, and with one run per core the pool would have no thread left for the cheap
            // requests (health checks) until it grew. The slots bound these threads.
            var (result, elapsed) = await Task.Factory.StartNew(
                () =>
                {
                    var started = _stopwatch.GetTimestamp();
                    var value = work();
                    return (value, _stopwatch.GetElapsedTime(started));
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            seconds = elapsed.TotalSeconds;
            _metrics?.PasswordHashingRun(_bcrypt.Name, elapsed);
            return result;
        }
        finally
        {
            Release(client, seconds);
        }
    }

    /// <summary>Under <see cref="_gate"/>: refuses <paramref name="client"/> if it is over its share or would wait too long.</summary>
    private void ThrowIfRefused(string client)
    {
        if (client != ClientAddress.Unknown && _heldByClient.GetValueOrDefault(client) >= _slotsPerClient)
        {
            _metrics?.PasswordHashingRefused("client-share");
            throw new TooManyRequestsException(
                $"This client already has {_slotsPerClient} password checks under way. Try again shortly.", OverShareRetryAfter);
        }

        if (_running < _slots)
        {
            return;
        }

        var expectedWait = TimeSpan.FromSeconds((_queue.Count + 1) * _recentHashSeconds / _slots);
        if (_queue.Count >= _queueLimit || expectedWait > _maxExpectedWait)
        {
            _metrics?.PasswordHashingRefused("busy");
            throw new ServiceBusyException(
                $"Password hashing is at capacity (expected wait {expectedWait.TotalMilliseconds:0} ms).", expectedWait);
        }
    }

    /// <summary>A run ended (or never started): the client's hold goes, and the slot passes to the head of the queue.</summary>
    private void Release(string client, double? seconds)
    {
        Waiter? next = null;
        lock (_gate)
        {
            Unhold(client);
            if (seconds is { } sample)
            {
                _recentHashSeconds += Smoothing * (sample - _recentHashSeconds);
            }

            if (_queue.First is { } first)
            {
                _queue.RemoveFirst();
                next = first.Value;
            }
            else
            {
                _running--;
            }
        }

        // Outside the lock: the waiter's continuation runs elsewhere (RunContinuationsAsynchronously).
        next?.Granted.TrySetResult();
    }

    /// <summary>The caller of a queued request went away: it leaves the queue, unless a slot already reached it.</summary>
    private void Abandon(Waiter waiter, string client)
    {
        lock (_gate)
        {
            if (waiter.Node?.List is null)
            {
                return; // granted meanwhile: RunAsync sees the cancellation and gives the slot on
            }

            _queue.Remove(waiter.Node);
            Unhold(client);
        }

        waiter.Granted.TrySetCanceled();
    }

    private void Unhold(string client)
    {
        var held = _heldByClient[client] - 1;
        if (held == 0)
        {
            _heldByClient.Remove(client);
        }
        else
        {
            _heldByClient[client] = held;
        }
    }

    private sealed class Waiter
    {
        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}

/// <summary>
/// Builds the <see cref="PasswordHasher"/> while the host starts, before Kestrel listens: bcrypt is chosen,
/// self-tested and logged (and the dummy hash made) before the first request, and
/// <c>Security:BcryptImplementation=Native</c> on a system without libxcrypt stops the start instead of
/// failing requests.
/// </summary>
internal sealed class PasswordHasherStartup(PasswordHasher hasher) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The hasher this start-up built.</summary>
    public string Implementation => hasher.Implementation;
}
