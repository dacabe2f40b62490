using MassTransit;
using Registration.Contracts.V1;

namespace Registration.Testing.Probes;

/// <summary>The <see cref="ActivationCodeExpiredBeforeDelivery"/> events that went through the broker, with their MessageIds.</summary>
public sealed class ExpiredEvents
{
    public ConcurrentQueue<(Guid? MessageId, ActivationCodeExpiredBeforeDelivery Event)> Received { get; } = new();
}

/// <summary>Stands in for the API's consumer of the event, on its own queue of the test's virtual host.</summary>
public sealed class ExpiredEventCollector(ExpiredEvents events) : IConsumer<ActivationCodeExpiredBeforeDelivery>
{
    public Task Consume(ConsumeContext<ActivationCodeExpiredBeforeDelivery> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        events.Received.Enqueue((context.MessageId, context.Message));
        return Task.CompletedTask;
    }
}
