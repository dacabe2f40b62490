extern alias Api;
using Api::Registration.Api.Infrastructure;

namespace Registration.Testing.Fakes;

/// <summary>
/// bcrypt for tests of the password hasher's bulkhead: each run takes exactly <see cref="RunTime"/> on
/// <see cref="Stopwatch"/> (the hasher's stopwatch: a clock of the run's own thread, so runs in parallel do not
/// lengthen each other), and while <see cref="Hold"/> is in force runs wait until <see cref="Release"/>. Nothing
/// sleeps; a test decides how long bcrypt took and when it finishes.
/// </summary>
public sealed class FakeBcrypt : IBcrypt, IDisposable
{
    [ThreadStatic]
    private static long t_elapsedTicks;

    private readonly ManualResetEventSlim _open = new(initialState: true);
    private int _running;
    private int _runs;

    /// <summary>How long each run takes on <see cref="Stopwatch"/>, read when the run ends.</summary>
    public TimeSpan RunTime { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Give this to the hasher as its stopwatch.</summary>
    public TimeProvider Stopwatch { get; } = new RunClock();

    public string Name => "fake";

    /// <summary>Runs started and not finished (held ones included).</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Runs started since the fake was made.</summary>
    public int Runs => Volatile.Read(ref _runs);

    /// <summary>The threads the runs were on: the hasher gives bcrypt threads of its own, not the pool's.</summary>
    public ConcurrentBag<bool> RanOnThreadPool { get; } = [];

    /// <summary>From now on runs wait for <see cref="Release"/>.</summary>
    public void Hold() => _open.Reset();

    /// <summary>Lets every waiting and future run finish.</summary>
    public void Release() => _open.Set();

    /// <summary>Waits (without sleeping a fixed time) until <paramref name="count"/> runs are in progress.</summary>
    public Task WaitUntilRunningAsync(int count) =>
        Eventually.HoldsAsync(() => Task.FromResult(Running >= count), $"{count} bcrypt runs in progress", TimeSpan.FromSeconds(30));

    public string Hash(string password, int workFactor)
    {
        Run();
        return HashOf(password);
    }

    public bool Verify(string password, string hash) => Run() && hash == HashOf(password);

    public void Dispose() => _open.Dispose();

    /// <summary>What the fake "hashes" a password to.</summary>
    public static string HashOf(string password) => $"fake-bcrypt:{password}";

    private bool Run()
    {
        Interlocked.Increment(ref _runs);
        Interlocked.Increment(ref _running);
        RanOnThreadPool.Add(Thread.CurrentThread.IsThreadPoolThread);
        try
        {
            if (!_open.Wait(TimeSpan.FromSeconds(60)))
            {
                throw new TimeoutException("A held bcrypt run was never released.");
            }

            t_elapsedTicks += RunTime.Ticks;
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>A stopwatch that advances only when a run on the same thread ends.</summary>
    private sealed class RunClock : TimeProvider
    {
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => t_elapsedTicks;
    }
}
