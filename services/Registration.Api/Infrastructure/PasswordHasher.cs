using Microsoft.Extensions.Options;

namespace Registration.Api.Infrastructure;

/// <summary>
/// bcrypt behind a bulkhead. bcrypt is deliberately slow CPU work: unbounded, a flood of sign-ups or
/// Basic-auth requests would occupy every thread-pool thread and starve cheap requests (health checks
/// included). At most <c>HashingConcurrency</c> runs at once, a short queue waits, and past that the
/// caller gets <see cref="ServiceBusyException"/> immediately. bcrypt itself is the system's libxcrypt when
/// usable, else BCrypt.Net-Next (<see cref="BcryptSelection"/>).
/// </summary>
public sealed class PasswordHasher : IDisposable
{
    private readonly IBcrypt _bcrypt;
    private readonly TimeProvider _stopwatch;
    private readonly RegistrationMetrics? _metrics;
    private readonly SemaphoreSlim _slots;
    private readonly int _queueLimit;
    private readonly TimeSpan _queueTimeout;
    private readonly int _workFactor;
    private readonly string _dummyHash;
    private int _waiting;

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
        var concurrency = security.HashingConcurrency > 0 ? security.HashingConcurrency : Environment.ProcessorCount;
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _queueLimit = security.HashingQueueLimit;
        _queueTimeout = security.HashingQueueTimeout;
        _workFactor = security.BcryptWorkFactor;
        // Verified against when the email is unknown, so that answer costs the same as a wrong password.
        _dummyHash = bcrypt.Hash(Guid.NewGuid().ToString(), _workFactor);
        metrics?.PasswordHashingImplementation(bcrypt.Name);
    }

    /// <summary><c>native</c> or <c>managed</c>.</summary>
    public string Implementation => _bcrypt.Name;

    /// <summary>Every slot busy and the queue full: a caller can refuse before doing any other work.</summary>
    public bool IsSaturated => _slots.CurrentCount == 0 && Volatile.Read(ref _waiting) >= _queueLimit;

    /// <summary>Throws <see cref="ServiceBusyException"/> when <see cref="IsSaturated"/>.</summary>
    public void ThrowIfSaturated()
    {
        if (IsSaturated)
        {
            throw new ServiceBusyException("Password hashing is at capacity.");
        }
    }

    public Task<string> HashAsync(string password, CancellationToken cancellationToken) =>
        RunAsync(() => _bcrypt.Hash(password, _workFactor), cancellationToken);

    /// <summary>Verifies <paramref name="password"/>; with no hash (unknown user) it burns the same time and fails.</summary>
    public Task<bool> VerifyAsync(string password, string? hash, CancellationToken cancellationToken) =>
        RunAsync(() => _bcrypt.Verify(password, hash ?? _dummyHash) && hash is not null, cancellationToken);

    private async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        if (!_slots.Wait(0, cancellationToken))
        {
            if (Interlocked.Increment(ref _waiting) > _queueLimit)
            {
                Interlocked.Decrement(ref _waiting);
                throw new ServiceBusyException("Password hashing is at capacity.");
            }

            try
            {
                if (!await _slots.WaitAsync(_queueTimeout, cancellationToken))
                {
                    throw new ServiceBusyException("Timed out waiting for a password hashing slot.");
                }
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        try
        {
            // On a thread of its own, not a thread-pool one: bcrypt holds its thread for tens of
            // milliseconds, and with one run per core the pool would have no thread left for the cheap
            // requests (health checks) until it grew. The bulkhead bounds these threads to the slots.
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
            _metrics?.PasswordHashingRun(_bcrypt.Name, elapsed);
            return result;
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
