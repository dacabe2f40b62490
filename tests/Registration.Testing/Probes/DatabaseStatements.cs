using System.Diagnostics;

namespace Registration.Testing.Probes;

/// <summary>
/// The SQL commands this process sends (Npgsql's spans, which this probe asks Npgsql to create) whose text
/// names <paramref name="table"/>: round trips per unit of work, as a number a test can hold on to.
/// Process-wide, and multiplexed commands carry no database name: use it in a test that runs alone.
/// </summary>
public sealed class DatabaseStatements : IDisposable
{
    private readonly ConcurrentQueue<string> _statements = new();
    private readonly ActivityListener _listener;

    public DatabaseStatements(string table)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if ((activity.GetTagItem("db.query.text") ?? activity.GetTagItem("db.statement")) is string sql
                    && sql.Contains(table, StringComparison.Ordinal))
                {
                    _statements.Enqueue(sql);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The commands seen so far, in the order they ended.</summary>
    public IReadOnlyList<string> All => [.. _statements];

    public int Count => _statements.Count;

    public void Dispose() => _listener.Dispose();
}
