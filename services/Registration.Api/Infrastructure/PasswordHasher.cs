using Microsoft.Extensions.Options;

namespace Registration.Api.Infrastructure;

/// <summary>
/// bcrypt behind a bulkhead. bcrypt is deliberately slow CPU work: unbounded, a flood of sign-ups or
/// Basic-auth requests would occupy every thread-pool thread and starve cheap requests (health checks
/// included). At most <c>HashingConcurrency</c> runs at once, a short queue waits, and past that the
/// caller gets <see cref="ServiceBusyException"/> immediately.
/// </summary>
public sealed class PasswordHasher : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly int _queueLimit;
    private readonly TimeSpan _queueTimeout;
    private readonly int _workFactor;
    private readonly string _dummyHash;
    private int _waiting;

    public PasswordHasher(IOptions<SecurityOptions> options)
    {
        var security = options.Value;
        var concurrency = security.HashingConcurrency > 0 ? security.HashingConcurrency : Environment.ProcessorCount;
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _queueLimit = security.HashingQueueLimit;
        _queueTimeout = security.HashingQueueTimeout;
        _workFactor = security.BcryptWorkFactor;
        // Verified against when the email is unknown, so that answer costs the same as a wrong password.
        _dummyHash = BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString(), _workFactor);
    }

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
        RunAsync(() => BCrypt.Net.BCrypt.HashPassword(password, _workFactor), cancellationToken);

    /// <summary>Verifies <paramref name="password"/>; with no hash (unknown user) it burns the same time and fails.</summary>
    public Task<bool> VerifyAsync(string password, string? hash, CancellationToken cancellationToken) =>
        RunAsync(() => VerifySafely(password, hash ?? _dummyHash) && hash is not null, cancellationToken);

    private static bool VerifySafely(string password, string hash)
    {
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            // A corrupt stored hash must not turn into a 500: it simply never matches.
            return false;
        }
    }

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
            return await Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
