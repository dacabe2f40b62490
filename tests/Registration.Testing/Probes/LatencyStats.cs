using System.Diagnostics;

namespace Registration.Testing.Probes;

/// <summary>Percentiles over recorded durations (milliseconds), safe to add to from many tasks: for reports, never for assertions.</summary>
public sealed class LatencyStats
{
    private readonly List<double> _samples = [];
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _samples.Count;
            }
        }
    }

    public void Add(double milliseconds)
    {
        lock (_gate)
        {
            _samples.Add(milliseconds);
        }
    }

    public void AddElapsed(long startTimestamp, long endTimestamp) =>
        Add(Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMilliseconds);

    /// <summary>The <paramref name="p"/>th percentile (0–100), nearest rank; NaN when empty.</summary>
    public double Percentile(double p)
    {
        lock (_gate)
        {
            if (_samples.Count == 0)
            {
                return double.NaN;
            }

            var sorted = _samples.Order().ToArray();
            var index = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
            return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
        }
    }

    public double Max()
    {
        lock (_gate)
        {
            return _samples.Count == 0 ? double.NaN : _samples.Max();
        }
    }

    /// <summary><c>n 40, p50 1.2 ms, p99 3.4 ms, max 5.6 ms</c>.</summary>
    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"n {Count}, p50 {Ms(Percentile(50))} ms, p99 {Ms(Percentile(99))} ms, max {Ms(Max())} ms");

    public static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0", CultureInfo.InvariantCulture);
}
