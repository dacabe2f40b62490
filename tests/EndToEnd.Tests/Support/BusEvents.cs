using System.Collections.Concurrent;
using MassTransit;

namespace EndToEnd.Tests.Support;

/// <summary>What one host's bus consumed, when, and how it ended: the evidence of who handled what.</summary>
public sealed class BusEvents(string host) : IConsumeObserver
{
    private readonly ConcurrentQueue<BusEvent> _events = new();

    public string Host { get; } = host;

    public IReadOnlyList<BusEvent> All => [.. _events];

    /// <summary>Messages of type <typeparamref name="T"/> this host consumed successfully.</summary>
    public int Completed<T>() => _events.Count(e => e.Kind == BusEventKind.Consumed && e.MessageType == typeof(T).Name);

    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class => Add(context, BusEventKind.Started, error: null);

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class => Add(context, BusEventKind.Consumed, error: null);

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class => Add(context, BusEventKind.Faulted, exception);

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
