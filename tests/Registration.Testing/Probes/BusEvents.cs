using MassTransit;

namespace Registration.Testing.Probes;

/// <summary>
/// What one host's bus consumed, when, and how it ended: the evidence of who handled what. Counted
/// per message type and per MessageId.
/// </summary>
public sealed class BusEvents(string host) : IConsumeObserver
{
    private readonly ConcurrentQueue<BusEvent> _events = new();

    public string Host { get; } = host;

    public IReadOnlyList<BusEvent> All => [.. _events];

    /// <summary>Consumes of any message that completed.</summary>
    public int CompletedTotal => _events.Count(e => e.Kind == BusEventKind.Consumed);

    /// <summary>Messages of type <typeparamref name="T"/> this host consumed successfully.</summary>
    public int Completed<T>() => _events.Count(e => e.Kind == BusEventKind.Consumed && e.MessageType == typeof(T).Name);

    public int Started(Guid messageId) => Count(BusEventKind.Started, messageId);

    public int Completed(Guid messageId) => Count(BusEventKind.Consumed, messageId);

    public int Faulted(Guid messageId) => Count(BusEventKind.Faulted, messageId);

    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class => Add(context, BusEventKind.Started, error: null);

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class => Add(context, BusEventKind.Consumed, error: null);

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class => Add(context, BusEventKind.Faulted, exception);

    private int Count(BusEventKind kind, Guid messageId) => _events.Count(e => e.Kind == kind && e.MessageId == messageId);

    private Task Add<T>(ConsumeContext<T> context, BusEventKind kind, Exception? error)
        where T : class
    {
        _events.Enqueue(new BusEvent(
            DateTime.UtcNow, Host, kind, typeof(T).Name, context.MessageId, context.GetRetryAttempt(),
            error is null ? null : $"{error.GetType().Name}: {error.Message}"));
        return Task.CompletedTask;
    }
}

public enum BusEventKind
{
    Started,
    Consumed,
    Faulted,
}

/// <param name="RetryAttempt">0 for a first delivery, n for the n-th in-memory message retry.</param>
public sealed record BusEvent(
    DateTime At, string Host, BusEventKind Kind, string MessageType, Guid? MessageId, int RetryAttempt, string? Error);

/// <summary>Several consume observers as one, called in order: MassTransit takes one observer per implementation type.</summary>
public sealed class ConsumeObservers(IReadOnlyList<IConsumeObserver> observers) : IConsumeObserver
{
    public async Task PreConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        foreach (var observer in observers)
        {
            await observer.PreConsume(context);
        }
    }

    public async Task PostConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        foreach (var observer in observers)
        {
            await observer.PostConsume(context);
        }
    }

    public async Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class
    {
        foreach (var observer in observers)
        {
            await observer.ConsumeFault(context, exception);
        }
    }
}
