using MassTransit;
using Notification.Worker.Consumers;
using Notification.Worker.Infrastructure;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Registration.Hosting;
using PublishException = RabbitMQ.Client.Exceptions.PublishException;

namespace Notification.Worker.DeadLetters;

/// <summary>
/// Reads and replays this worker's <c>_error</c> queues with the plain RabbitMQ client: no
/// management API (it may not be there in production), queues found by passive declaration
/// of the names MassTransit gives this worker's endpoints.
/// </summary>
public sealed class DeadLetterQueues : IAsyncDisposable
{
    public const string ErrorSuffix = "_error";

    private readonly IConnection _connection;

    private DeadLetterQueues(IConnection connection) => _connection = connection;

    /// <summary>The error queues of the email flow: this worker's endpoint and the API's expiry consumer.</summary>
    public static IReadOnlyList<string> KnownErrorQueues { get; } =
    [
        KebabCaseEndpointNameFormatter.Instance.Consumer<ActivationEmailConsumer>() + ErrorSuffix,
        // The API's consumer of ActivationCodeExpiredBeforeDelivery (ExpiredBeforeDeliveryConsumer):
        // its dead letters are part of the same email flow, so operators see and replay them here too.
        "expired-before-delivery" + ErrorSuffix,
    ];

    /// <summary>Accepts a queue named with or without its <c>_error</c> suffix.</summary>
    public static string ErrorQueueName(string queue) =>
        queue.EndsWith(ErrorSuffix, StringComparison.Ordinal) ? queue : queue + ErrorSuffix;

    public static string SourceQueueName(string errorQueue) => errorQueue[..^ErrorSuffix.Length];

    /// <summary>A connection of its own; a command fails and lets the operator run it again rather than reconnect quietly.</summary>
    public static async Task<DeadLetterQueues> ConnectAsync(RabbitMqOptions options, CancellationToken cancellationToken) =>
        new(await RabbitMqConnections.ConnectAsync(options, "notification-worker dead-letters", cancellationToken));

    /// <summary>Ready messages in a queue, or null when there is no such queue.</summary>
    public async Task<uint?> CountAsync(string queue, CancellationToken cancellationToken)
    {
        // A passive declaration of a missing queue closes its channel: one channel per probe.
        await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            var declared = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            return declared.MessageCount;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Null when <paramref name="errorQueue"/> was declared as <paramref name="options"/> say (so its retention is
    /// <see cref="RabbitMqOptions.DeadLetterRetention"/>), else the broker's reason why not.
    /// </summary>
    public Task<string?> DeclaredOtherwiseAsync(string errorQueue, RabbitMqOptions options, CancellationToken cancellationToken) =>
        QueueTopologyCheck.MismatchAsync(_connection, new QueueDeclaration(errorQueue, QueueTopology.DeadLetterQueueArguments(options)), cancellationToken);

    /// <summary>
    /// Looks at up to <paramref name="max"/> messages without removing them: they are fetched
    /// unacknowledged and handed back to the queue, in order, when done.
    /// </summary>
    public async Task<IReadOnlyList<DeadLetter>> PeekAsync(string errorQueue, int max, CancellationToken cancellationToken)
    {
        if (await CountAsync(errorQueue, cancellationToken) is null)
        {
            return [];
        }

        await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var letters = new List<DeadLetter>();
        ulong lastTag = 0;
        while (letters.Count < max)
        {
            var message = await channel.BasicGetAsync(errorQueue, autoAck: false, cancellationToken);
            if (message is null)
            {
                break;
            }

            lastTag = message.DeliveryTag;
            letters.Add(DeadLetter.From(errorQueue, message.BasicProperties, message.Body));
        }

        if (lastTag != 0)
        {
            await channel.BasicNackAsync(lastTag, multiple: true, requeue: true, cancellationToken);
        }

        await channel.CloseAsync(cancellationToken);
        return letters;
    }

    /// <summary>
    /// Moves up to <paramref name="max"/> messages from <paramref name="errorQueue"/> back to
    /// its source queue, fault headers removed. Each message is published and confirmed by the
    /// broker before it is acked in the error queue: a crash in between leaves it in both
    /// queues (the consumer's MessageId check keeps that from emailing twice), never in neither.
    /// </summary>
    /// <returns>The number of messages moved.</returns>
    public async Task<int> ReplayAsync(string errorQueue, int max, CancellationToken cancellationToken)
    {
        var sourceQueue = SourceQueueName(errorQueue);
        var waiting = await CountAsync(errorQueue, cancellationToken)
            ?? throw new DeadLetterException($"There is no queue {errorQueue}.");
        if (await CountAsync(sourceQueue, cancellationToken) is null)
        {
            throw new DeadLetterException($"There is no queue {sourceQueue} to replay {errorQueue} into.");
        }

        // Only what was waiting at the start: a message failing again during the replay comes
        // back to the error queue and must not be replayed round and round.
        var limit = (int)Math.Min((uint)max, waiting);

        var options = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);
        await using var channel = await _connection.CreateChannelAsync(options, cancellationToken);
        var moved = 0;
        while (moved < limit)
        {
            var message = await channel.BasicGetAsync(errorQueue, autoAck: false, cancellationToken);
            if (message is null)
            {
                break;
            }

            var properties = new BasicProperties(message.BasicProperties)
            {
                Headers = message.BasicProperties.Headers?
                    .Where(header => !DeadLetter.IsFaultHeader(header.Key))
                    .ToDictionary(header => header.Key, header => header.Value, StringComparer.Ordinal),
            };

            try
            {
                // Default exchange, routing key = queue: straight to the source queue and no
                // other. Mandatory: an unroutable message fails here instead of vanishing.
                await channel.BasicPublishAsync(string.Empty, sourceQueue, mandatory: true, properties, message.Body, cancellationToken);
            }
            catch (PublishException ex)
            {
                await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true, cancellationToken);
                throw new DeadLetterException(
                    $"The broker did not take message {message.BasicProperties.MessageId} for {sourceQueue} ({(ex.IsReturn ? "unroutable" : "nacked")}); it stays in {errorQueue}.",
                    ex);
            }

            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
            moved++;
        }

        await channel.CloseAsync(cancellationToken);
        return moved;
    }

    public async ValueTask DisposeAsync()
    {
        // Unacked messages of a failed command go back to their queue when the connection closes.
        await _connection.DisposeAsync();
    }
}

/// <summary>A dead-letter command could not do what was asked; the message says why.</summary>
public sealed class DeadLetterException : Exception
{
    public DeadLetterException(string message) : base(message) { }

    public DeadLetterException() { }

    public DeadLetterException(string message, Exception innerException) : base(message, innerException) { }
}
