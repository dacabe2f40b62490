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
        "Microsoft.AspNetCore", "Registration.Api.Outbox", "MassTransit", "System.Net.Http",
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

    public void Dispose() => _listener.Dispose();
}
