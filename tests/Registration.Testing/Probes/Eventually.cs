using System.Collections;
using System.Diagnostics;

namespace Registration.Testing.Probes;

/// <summary>
/// Polls for something that happens in the background until it holds or a deadline passes; never a
/// fixed sleep. The deadline is a bound for a hang, not a wait: a passing test returns as soon as the
/// condition holds, so the default is generous for a loaded two-core machine.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Returns the first value of <paramref name="probe"/> that is <paramref name="done"/>.</summary>
    /// <exception cref="TimeoutException">Not within the timeout; the message names <paramref name="what"/> and the last value.</exception>
    public static async Task<T> GetAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(done);
        var limit = timeout ?? DefaultTimeout;
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (stopwatch.Elapsed > limit)
            {
                throw new TimeoutException(string.Create(
                    CultureInfo.InvariantCulture, $"Not within {limit.TotalSeconds:0.#} s: {what}. Last value: {Describe(value)}"));
            }

            await Task.Delay(PollInterval);
        }
    }

    public static Task<T> GetAsync<T>(Func<T> probe, Func<T, bool> done, string what, TimeSpan? timeout = null) =>
        GetAsync(() => Task.FromResult(probe()), done, what, timeout);

    public static Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        GetAsync(condition, holds => holds, what, timeout);

    public static Task HoldsAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        GetAsync(() => Task.FromResult(condition()), holds => holds, what, timeout);

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        string text => text,
        IEnumerable items => $"[{string.Join(", ", items.Cast<object?>().Take(20))}{(items.Cast<object?>().Skip(20).Any() ? ", …" : string.Empty)}]",
        _ => value.ToString() ?? string.Empty,
    };
}
