using MassTransit;
using Microsoft.Extensions.Options;
using Notification.Worker.Infrastructure;

namespace Notification.Worker.Consumers;

/// <summary>
/// Owns how the activation email queue is consumed: concurrency, prefetch, and message
/// retries with growing intervals held in memory. After the last retry MassTransit moves the message to
/// <c>activation-email_error</c> with its fault headers. A permanent failure skips the retries, and so does a
/// provider that asked the message to wait too often (a wait the provider asked for is not an in-memory
/// retry: the consumer sends the message through a wait queue, see <c>WaitQueues</c>).
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
            retry.Ignore<ProviderThrottledException>();
        });
    }
}
