using System.Collections.Concurrent;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Registration.Testing;

namespace Registration.Api.Tests.Support;

/// <summary>A message as it arrived on the tap's queue.</summary>
public sealed record TappedMessage(string? MessageId, string Body);

/// <summary>
/// A test's own exclusive queue bound to a MassTransit publish exchange, connected straight to the broker
/// (never through a proxy), collecting whatever the API publishes there. Bind it BEFORE the API publishes:
/// the outbox publishes with Mandatory, so a message with no queue bound is returned and retried later.
/// </summary>
public sealed class ExchangeTap : IAsyncDisposable
{
    public const string UserRegisteredExchange = "Registration.Contracts.V1:UserRegistered";
    public const string ActivationCodeReissuedExchange = "Registration.Contracts.V1:ActivationCodeReissued";

    private readonly ConcurrentQueue<TappedMessage> _messages = new();
    private IConnection? _connection;
    private IChannel? _channel;

    private ExchangeTap()
    {
    }

    public IReadOnlyList<TappedMessage> Messages => _messages.ToArray();

    public static async Task<ExchangeTap> BindAsync(RabbitMqVirtualHost virtualHost, string exchange)
    {
        ArgumentNullException.ThrowIfNull(virtualHost);
        var tap = new ExchangeTap();
        var factory = new ConnectionFactory { Uri = virtualHost.AmqpUri, ClientProvidedName = "test exchange tap" };
        tap._connection = await factory.CreateConnectionAsync();
        tap._channel = await tap._connection.CreateChannelAsync();

        // As MassTransit declares it (durable fanout), so whichever of us comes first, both agree.
        await tap._channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        var queue = await tap._channel.QueueDeclareAsync(queue: string.Empty, durable: false, exclusive: true, autoDelete: true);
        await tap._channel.QueueBindAsync(queue.QueueName, exchange, routingKey: string.Empty);

        var consumer = new AsyncEventingBasicConsumer(tap._channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            tap._messages.Enqueue(new TappedMessage(delivery.BasicProperties.MessageId, Encoding.UTF8.GetString(delivery.Body.Span)));
            return Task.CompletedTask;
        };
        await tap._channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return tap;
    }

    /// <summary>Messages whose AMQP <c>message_id</c> is <paramref name="messageId"/>.</summary>
    public IReadOnlyList<TappedMessage> WithMessageId(Guid messageId) =>
        Messages.Where(message => Guid.TryParse(message.MessageId, out var id) && id == messageId).ToArray();

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.CloseAsync();
            _channel.Dispose();
        }

        if (_connection is not null)
        {
            await _connection.CloseAsync();
            _connection.Dispose();
        }
    }
}
