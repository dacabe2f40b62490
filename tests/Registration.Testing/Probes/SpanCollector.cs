using System.Diagnostics;

namespace Registration.Testing.Probes;

/// <summary>
/// Sees the spans the services create, without creating any itself: it takes no part in sampling, so
/// a span exists only because the service's own OpenTelemetry set-up asked for it. Process-wide (test
/// classes run in parallel): look spans up by trace id.
/// </summary>
public sealed class SpanCollector : IDisposable
{
    private static readonly HashSet<string> Sources = new(StringComparer.Ordinal)
    {
        "Microsoft.AspNetCore", "Registration.Api.Outbox", "MassTransit", "System.Net.Http", "Npgsql",
    };

    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public SpanCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => Sources.Contains(source.Name),
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> InTrace(string traceId) =>
        [.. _stopped.Where(activity => activity.TraceId.ToHexString() == traceId).OrderBy(activity => activity.StartTimeUtc)];

    /// <summary>The SQL the service ran in a trace, statement by statement, in order (Npgsql's spans).</summary>
    public IReadOnlyList<string> SqlInTrace(string traceId) =>
        [.. InTrace(traceId).Where(span => span.Source.Name == "Npgsql")
            .Select(span => (span.GetTagItem("db.query.text") ?? span.GetTagItem("db.statement"))?.ToString() ?? span.DisplayName)];

    /// <summary>
    /// A new trace for what this test does next: requests sent while the returned activity is current carry its
    /// trace id (<c>traceparent</c>), so the service's spans of them can be found with <see cref="InTrace"/>.
    /// The trace is marked sampled, so a service sampling by its parent (OpenTelemetry's default) records it.
    /// </summary>
    public static Activity StartTrace(string name)
    {
        var activity = new Activity(name).SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        return activity;
    }

    public void Dispose() => _listener.Dispose();
}
