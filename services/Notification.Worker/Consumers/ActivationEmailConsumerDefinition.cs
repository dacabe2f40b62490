using MassTransit;
using Microsoft.Extensions.Options;
using Notification.Worker.Infrastructure;

namespace Notification.Worker.Consumers;

/// <summary>
/// Owns how the activation email queue is consumed: concurrency, prefetch, and message
/// retries with growing intervals held in memory (the Debian RabbitMQ has no delayed-exchange
/// plugin, so no delayed redelivery). After the last retry MassTransit moves the message to
/// <c>activation-email_error</c> with its fault headers. A permanent failure skips the retries.
/// </summary>
public sealed class ActivationEmailConsumerDefinition : ConsumerDefinition<ActivationEmailConsumer>
{
    private readonly ConsumerOptions _options;

    public ActivationEmailConsumerDefinition(IOptions<ConsumerOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        ConcurrentMessageLimit = _options.ConcurrentMessageLimit;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ActivationEmailConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpointConfigurator);
        // Explicit rather than derived from the concurrency: at least one message ready per slot.
        endpointConfigurator.PrefetchCount = Math.Max(_options.PrefetchCount, _options.ConcurrentMessageLimit);

        var intervals = _options.MessageRetryIntervals();
        endpointConfigurator.UseMessageRetry(retry =>
        {
            if (intervals.Length == 0)
            {
                retry.None();
            }
            else
            {
                retry.Intervals(intervals);
            }

            retry.Ignore<PermanentEmailFailureException>();
        });
    }
}
