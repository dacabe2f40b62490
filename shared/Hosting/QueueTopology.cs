using MassTransit;

namespace Registration.Hosting;

/// <summary>
/// The arguments of every queue a service's endpoints declare, in one place: MassTransit declares them
/// with these (<see cref="Messaging"/>) and the start-up check (<see cref="QueueTopologyCheck"/>) verifies
/// existing queues against the same values, because the broker refuses a declaration whose arguments differ
/// from the queue's (406 PRECONDITION_FAILED), and a queue cannot change them in place.
/// </summary>
/// <remarks>
/// <para>An endpoint's queue (<c>activation-email</c>): quorum by default, with a delivery limit; a message
/// returned to it more often than that (its consumer crashed or stopped while holding it) is dead-lettered
/// by the broker, at least once, to the endpoint's <c>_error</c> exchange, where MassTransit's own faults go.</para>
/// <para>Its <c>_error</c> and <c>_skipped</c> queues: the same type, no delivery limit (<c>dead-letters list</c>
/// looks at messages by taking them and handing them back, which a quorum queue counts as a delivery), no
/// dead-letter exchange of their own, and a message TTL: dead letters hold addresses and codes and are dropped
/// after <see cref="RabbitMqOptions.DeadLetterRetention"/>.</para>
/// </remarks>
public static class QueueTopology
{
    public const string ErrorSuffix = "_error";
    public const string SkippedSuffix = "_skipped";

    public const string QueueType = "x-queue-type";
    public const string DeliveryLimit = "x-delivery-limit";
    public const string DeadLetterExchange = "x-dead-letter-exchange";
    public const string DeadLetterStrategy = "x-dead-letter-strategy";
    public const string Overflow = "x-overflow";
    public const string MessageTtl = "x-message-ttl";

    /// <summary>The queues one endpoint owns: its own, then its error and skipped queues.</summary>
    public static IReadOnlyList<QueueDeclaration> QueuesOf(string endpointQueue, RabbitMqOptions options) =>
    [
        new(endpointQueue, EndpointQueueArguments(endpointQueue, options)),
        new(endpointQueue + ErrorSuffix, DeadLetterQueueArguments(options)),
        new(endpointQueue + SkippedSuffix, DeadLetterQueueArguments(options)),
    ];

    public static IReadOnlyDictionary<string, object> EndpointQueueArguments(string endpointQueue, RabbitMqOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.QuorumQueues)
        {
            // As classic queues were always declared: no arguments.
            return new Dictionary<string, object>(StringComparer.Ordinal);
        }

        return new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [QueueType] = "quorum",
            [DeliveryLimit] = options.DeliveryLimit,
            [DeadLetterExchange] = endpointQueue + ErrorSuffix,
            // The broker keeps a message until the error queue confirmed it (RabbitMQ 3.10+); at-least-once
            // dead-lettering requires the reject-publish overflow mode (which matters only with a length limit).
            [DeadLetterStrategy] = "at-least-once",
            [Overflow] = "reject-publish",
        };
    }

    public static IReadOnlyDictionary<string, object> DeadLetterQueueArguments(RabbitMqOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var arguments = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [MessageTtl] = (long)options.DeadLetterRetention.TotalMilliseconds,
        };
        if (options.QuorumQueues)
        {
            arguments[QueueType] = "quorum";
        }

        return arguments;
    }

    /// <summary>
    /// Applies the arguments to an endpoint MassTransit configures (the callback of <c>ConfigureEndpoints</c>),
    /// and declares its error exchange and queue at start-up, so that the broker's dead-lettering has somewhere
    /// to go before the first fault and the retention applies from the start.
    /// </summary>
    internal static void Configure(IRabbitMqReceiveEndpointConfigurator endpoint, string endpointQueue, RabbitMqOptions options)
    {
        if (options.QuorumQueues)
        {
            endpoint.SetQuorumQueue();
        }

        foreach (var (key, value) in EndpointQueueArguments(endpointQueue, options))
        {
            endpoint.SetQueueArgument(key, value);
        }

        endpoint.BindDeadLetterQueue(endpointQueue + ErrorSuffix, endpointQueue + ErrorSuffix, queue => ReplaceArguments(queue, options));
        if (!options.QuorumQueues)
        {
            // BindDeadLetterQueue also names the error exchange as the queue's dead-letter exchange; a classic
            // queue keeps no arguments, as classic queues were always declared (and nothing dead-letters from it).
            endpoint.SetQueueArgument(DeadLetterExchange, null);
        }
    }

    /// <summary>
    /// MassTransit derives an endpoint's error and skipped queues from the endpoint's own arguments (delivery
    /// limit and dead-letter exchange included): those are removed, and the dead-letter queues get theirs.
    /// </summary>
    internal static void ReplaceArguments(IRabbitMqQueueConfigurator queue, RabbitMqOptions options)
    {
        foreach (var inherited in EndpointQueueArguments(string.Empty, options).Keys)
        {
            queue.SetQueueArgument(inherited, null);
        }

        foreach (var (key, value) in DeadLetterQueueArguments(options))
        {
            queue.SetQueueArgument(key, value);
        }
    }
}

/// <summary>A queue as this service declares it: its name and arguments.</summary>
public sealed record QueueDeclaration(string Name, IReadOnlyDictionary<string, object> Arguments);
