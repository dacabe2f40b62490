using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Registration.Testing.Probes;

/// <summary>
/// Writes the steps of a scenario to the test output with two times: real seconds since the start
/// (what the test costs) and the business clock (what a user would have lived through). Before each
/// step, the events observed since the previous one (provider requests, consumes) are written at the
/// time they happened, indented.
/// </summary>
public sealed class Timeline(ITestOutputHelper output, FakeTimeProvider clock, Func<IEnumerable<(DateTime At, string Text)>> observed)
{
    private readonly DateTime _start = DateTime.UtcNow;
    private DateTime _shownUntil = DateTime.UtcNow;

    public void Step(string text)
    {
        var now = DateTime.UtcNow;
        foreach (var (at, detail) in observed().Where(e => e.At > _shownUntil && e.At <= now).OrderBy(e => e.At))
        {
            output.WriteLine($"[{Offset(at),9}]                     {detail}");
        }

        _shownUntil = now;
        output.WriteLine($"[{Offset(now),9} | clock {clock.GetUtcNow():HH:mm:ss}] {text}");
    }

    /// <summary>Several lines (a command's output) under the current step.</summary>
    public void Quote(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            output.WriteLine($"{string.Empty,30}| {line.TrimEnd('\r')}");
        }
    }

    private string Offset(DateTime at) => (at - _start).TotalSeconds.ToString("+0.000's'", CultureInfo.InvariantCulture);
}
