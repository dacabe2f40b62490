using RabbitMQ.Client;

namespace Registration.Testing.Probes;

/// <summary>A message as it arrived on the tap's queue.</summary>
public sealed record TappedMessage(string? MessageId, string Body)
{
    /// <summary>The process that published it: MassTransit's envelope names its host (<c>host.processId</c>).</summary>
    public int? PublisherProcessId
    {
        get
        {
            try
            {
                using var envelope = JsonDocument.Parse(Body);
                return envelope.RootElement.TryGetProperty("host", out var host) && host.TryGetProperty("processId", out var id) && id.TryGetInt32(out var processId)
                    ? processId
                    : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}

/// <summary>
/// A test's own exclusive queue bound to a MassTransit publish exchange, collecting whatever is
/// published there. Bind it BEFORE the API publishes: the outbox publishes with Mandatory, so a
/// message with no queue bound is returned and retried later. Read by draining the queue rather than
/// by a consumer: once the broker has confirmed a publish the message is in the queue, so a read after
/// the outbox marked its rows dispatched sees every copy there will ever be, with no waiting.
/// </summary>
public sealed class ExchangeTap : IAsyncDisposable
{
    private readonly List<TappedMessage> _messages = [];
    private readonly SemaphoreSlim _reading = new(1, 1);
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly string _queue;

    private ExchangeTap(IConnection connection, IChannel channel, string queue)
    {
        _connection = connection;
        _channel = channel;
        _queue = queue;
    }

    public static async Task<ExchangeTap> BindAsync(RabbitMqVirtualHost virtualHost, string exchange)
    {
        var connection = await Broker.ConnectAsync(virtualHost, "test exchange tap");
        var channel = await connection.CreateChannelAsync();
        // As MassTransit declares it (durable fanout), so whichever of us comes first, both agree.
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        var queue = await channel.QueueDeclareAsync(queue: string.Empty, durable: false, exclusive: true, autoDelete: true);
        await channel.QueueBindAsync(queue.QueueName, exchange, routingKey: string.Empty);
        return new ExchangeTap(connection, channel, queue.QueueName);
    }

    /// <summary>Every message tapped so far: what was read before, and what is in the queue now.</summary>
    public async Task<IReadOnlyList<TappedMessage>> ReadAsync()
    {
        await _reading.WaitAsync();
        try
        {
            while (await _channel.BasicGetAsync(_queue, autoAck: true) is { } message)
            {
                _messages.Add(new TappedMessage(message.BasicProperties.MessageId, Encoding.UTF8.GetString(message.Body.Span)));
            }

            return [.. _messages];
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>Messages tapped so far whose AMQP <c>message_id</c> is <paramref name="messageId"/>.</summary>
    public async Task<IReadOnlyList<TappedMessage>> WithMessageIdAsync(Guid messageId) =>
        [.. (await ReadAsync()).Where(message => Guid.TryParse(message.MessageId, out var id) && id == messageId)];

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        _channel.Dispose();
        await _connection.CloseAsync();
        _connection.Dispose();
        _reading.Dispose();
    }
}
