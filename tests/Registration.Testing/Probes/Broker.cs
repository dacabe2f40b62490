using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Registration.Testing.Probes;

/// <summary>
/// A test's virtual host seen from outside with the plain RabbitMQ client, always directly (never
/// through a proxy a test may have cut): queue depths and consumers, messages left in place, and a
/// publisher that behaves as a foreign one might.
/// </summary>
public static class Broker
{
    /// <summary>The worker's queue (MassTransit's kebab-case name of its consumer), and where its dead letters go.</summary>
    public const string ActivationEmailQueue = "activation-email";

    public const string ActivationEmailErrorQueue = ActivationEmailQueue + "_error";

    private static readonly JsonSerializerOptions EnvelopeJson = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Ready messages and consumers of a queue, or null when it does not exist (yet).</summary>
    public static async Task<QueueState?> InspectAsync(RabbitMqVirtualHost vhost, string queue)
    {
        await using var connection = await ConnectAsync(vhost);
        // A passive declaration of a missing queue closes its channel: one channel per look.
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            var declared = await channel.QueueDeclarePassiveAsync(queue);
            return new QueueState(declared.MessageCount, declared.ConsumerCount);
        }
        catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }

    /// <summary>Messages ready in a queue; 0 when there is no such queue.</summary>
    public static async Task<uint> CountAsync(RabbitMqVirtualHost vhost, string queue) =>
        (await InspectAsync(vhost, queue))?.Messages ?? 0;

    /// <summary>Up to <paramref name="max"/> messages of a queue, left in place (taken unacked, then handed back); none when there is no such queue.</summary>
    public static async Task<IReadOnlyList<QueuedMessage>> PeekAsync(RabbitMqVirtualHost vhost, string queue, int max = 1000)
    {
        await using var connection = await ConnectAsync(vhost);
        await using var channel = await connection.CreateChannelAsync();
        var messages = new List<QueuedMessage>();
        try
        {
            while (messages.Count < max && await channel.BasicGetAsync(queue, autoAck: false) is { } message)
            {
                var headers = (message.BasicProperties.Headers ?? new Dictionary<string, object?>())
                    .ToDictionary(header => header.Key, header => HeaderText(header.Value), StringComparer.Ordinal);
                messages.Add(new QueuedMessage(message.BasicProperties.MessageId, headers, Encoding.UTF8.GetString(message.Body.Span)));
            }
        }
        catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
        {
            // Not declared yet.
        }

        // Closing the channel returns every unacked message to the queue.
        return messages;
    }

    /// <summary>Publishes in MassTransit's JSON envelope as a foreign publisher might: with no MessageId anywhere.</summary>
    public static Task PublishWithoutMessageIdAsync<T>(RabbitMqVirtualHost vhost, T message)
        where T : class => PublishEnvelopeAsync(vhost, message, messageId: null);

    /// <summary>Publishes as the API's outbox does, from outside any bus: MassTransit's JSON envelope with this MessageId.</summary>
    public static Task PublishAsync<T>(RabbitMqVirtualHost vhost, T message, Guid messageId)
        where T : class => PublishEnvelopeAsync(vhost, message, messageId);

    /// <summary>The exchange MassTransit publishes a message type to: <c>Registration.Contracts.V1:UserRegistered</c>.</summary>
    public static string ExchangeOf<T>() => $"{typeof(T).Namespace}:{typeof(T).Name}";

    /// <summary>
    /// Puts messages straight into an error queue as MassTransit leaves them there: the envelope, its
    /// MessageId, and fault headers (a backlog of dead letters without failing every send first).
    /// </summary>
    public static async Task PublishDeadLettersAsync<T>(RabbitMqVirtualHost vhost, string errorQueue, IEnumerable<(Guid MessageId, T Message)> letters)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(letters);
        await using var connection = await ConnectAsync(vhost);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        foreach (var (messageId, message) in letters)
        {
            var properties = Properties(messageId);
            properties.Headers = new Dictionary<string, object?>
            {
                ["MT-Fault-ExceptionType"] = "Notification.Worker.Consumers.TransientEmailFailureException",
                ["MT-Fault-Message"] = "Mailjet answered 503 Service Unavailable",
                ["MT-Fault-Timestamp"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                ["MT-Host-MachineName"] = "worker-1",
                ["MT-Reason"] = "fault",
            };
            await channel.BasicPublishAsync(string.Empty, errorQueue, mandatory: true, properties, Envelope(message, messageId));
        }
    }

    /// <summary>
    /// Takes the message at the head of <paramref name="queue"/> and hands it back (nack, requeue), <paramref name="times"/>
    /// times: what a consumer that crashes while holding it does to it. Returns how often there was a message to take.
    /// </summary>
    public static async Task<int> ReturnHeadAsync(RabbitMqVirtualHost vhost, string queue, int times)
    {
        await using var connection = await ConnectAsync(vhost);
        await using var channel = await connection.CreateChannelAsync();
        var taken = 0;
        for (var i = 0; i < times && await channel.BasicGetAsync(queue, autoAck: false) is { } message; i++)
        {
            await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true);
            taken++;
        }

        return taken;
    }

    /// <summary>Declares a durable queue with the given arguments (none: a classic queue, as versions before quorum queues declared it).</summary>
    public static async Task DeclareQueueAsync(RabbitMqVirtualHost vhost, string queue, IDictionary<string, object?>? arguments = null)
    {
        await using var connection = await ConnectAsync(vhost);
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments);
    }

    private static async Task PublishEnvelopeAsync<T>(RabbitMqVirtualHost vhost, T message, Guid? messageId)
        where T : class
    {
        await using var connection = await ConnectAsync(vhost);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await channel.BasicPublishAsync(ExchangeOf<T>(), string.Empty, mandatory: true, Properties(messageId), Envelope(message, messageId));
    }

    private static byte[] Envelope<T>(T message, Guid? messageId)
        where T : class =>
        JsonSerializer.SerializeToUtf8Bytes(new
        {
            messageId,
            messageType = new[] { $"urn:message:{typeof(T).Namespace}:{typeof(T).Name}" },
            sentTime = DateTimeOffset.UtcNow,
            message,
        }, EnvelopeJson);

    private static BasicProperties Properties(Guid? messageId) =>
        new() { ContentType = "application/vnd.masstransit+json", Persistent = true, MessageId = messageId?.ToString() };

    internal static Task<IConnection> ConnectAsync(RabbitMqVirtualHost vhost, string name = "test probe")
    {
        ArgumentNullException.ThrowIfNull(vhost);
        var factory = new ConnectionFactory { Uri = vhost.AmqpUri, ClientProvidedName = name, AutomaticRecoveryEnabled = false };
        return factory.CreateConnectionAsync();
    }

    private static string? HeaderText(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
    };
}

public sealed record QueueState(uint Messages, uint Consumers);

/// <summary>A message of a queue: its AMQP message_id, its headers as text, and its body.</summary>
public sealed record QueuedMessage(string? MessageId, IReadOnlyDictionary<string, string?> Headers, string Body)
{
    /// <summary>MassTransit's fault headers on a dead letter.</summary>
    public string? ExceptionType => Headers.GetValueOrDefault("MT-Fault-ExceptionType");

    public string? ExceptionMessage => Headers.GetValueOrDefault("MT-Fault-Message");
}
