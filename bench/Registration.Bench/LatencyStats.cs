using System.Diagnostics;
using System.Globalization;

namespace Registration.Bench;

/// <summary>Percentiles over recorded durations (milliseconds).</summary>
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

    public static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0", CultureInfo.InvariantCulture);
}

/// <summary>A plain-text table printed with aligned columns (also valid Markdown).</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params object[] cells) =>
        _rows.Add(cells.Select(cell => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "").ToArray());

    public void Print(string title)
    {
        var widths = headers.Select((header, i) => Math.Max(header.Length, _rows.Count == 0 ? 0 : _rows.Max(row => row[i].Length))).ToArray();
        Console.WriteLine();
        Console.WriteLine($"### {title}");
        Console.WriteLine();
        Console.WriteLine("| " + string.Join(" | ", headers.Select((h, i) => h.PadRight(widths[i]))) + " |");
        Console.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in _rows)
        {
            Console.WriteLine("| " + string.Join(" | ", row.Select((c, i) => c.PadLeft(widths[i]))) + " |");
        }
    }
}
