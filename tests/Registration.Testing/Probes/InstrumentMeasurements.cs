using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Registration.Testing.Probes;

/// <summary>
/// Counts the measurements one host records on one instrument, as they happen: only that host's (the meter its
/// <see cref="IMeterFactory"/> made), not those of the other hosts that share the test process. For "this
/// happened n times" (a bcrypt run, a refusal), where a scrape of /metrics would be late or cached.
/// </summary>
public sealed class InstrumentMeasurements : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public InstrumentMeasurements(IServiceProvider services, string meterName, string instrumentName)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == instrumentName && instrument.Meter.Name == meterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _count));
        _listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _count));
        _listener.Start();
    }

    /// <summary>Measurements recorded since this probe started.</summary>
    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
