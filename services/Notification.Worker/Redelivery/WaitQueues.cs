using System.Globalization;
using MassTransit;
using Microsoft.Extensions.Options;
using Notification.Worker.Infrastructure;
using RabbitMQ.Client;
using Registration.Hosting;

namespace Notification.Worker.Redelivery;

/// <summary>
/// Puts the message being consumed back on its queue no sooner than a given time, with what every RabbitMQ
/// has. The delayed-message plugin that MassTransit's delayed redelivery needs is not in the Debian package
/// (and is unmaintained), and a scheduler would be one more service. Instead a copy waits in a wait queue,
/// <c>{queue}_wait-{n}s</c>, whose messages all live <c>n</c> seconds (<c>x-message-ttl</c>) and are then
/// dead-lettered by the broker to the default exchange with the source queue as routing key: back in
/// <c>activation-email</c>, in the order they came (one lifetime per queue, so no message waits behind a
/// longer one). <c>n</c> is a power of two; a longer wait takes several hops, and a copy that comes back before
/// its time (<see cref="DueAtHeader"/>) goes on waiting. A redelivery is never early, and at most a second
/// late per hop.
/// </summary>
/// <remarks>
/// The copy is published with confirms before the consumer returns, so before MassTransit acks the original:
/// a crash in between leaves two copies, never none (the MessageId claim keeps that to one email). The copy
/// keeps the original's MessageId, headers and body; RabbitMQ's dead-letter history (<c>x-death</c>) of the
/// previous hop is dropped, so that it does not grow with every hop of a long or repeated wait.
/// </remarks>
public sealed class WaitQueues(IOptions<RabbitMqOptions> rabbit) : IAsyncDisposable
{
    /// <summary>When the copy is due back (Unix milliseconds, wall clock).</summary>
    public const string DueAtHeader = "Notification-Redeliver-At";

    /// <summary>How many times the provider has made this message wait so far.</summary>
    public const string DeferralsHeader = "Notification-Deferrals";

    /// <summary>The longest single hop: about 18 hours.</summary>
    private const int MaxHopSeconds = 1 << 16;

    private readonly SemaphoreSlim _connecting = new(1, 1);
    private IConnection? _connection;

    /// <summary>The time the copy being consumed was asked to come back at, if it came through a wait queue.</summary>
    public static DateTimeOffset? DueAt(ConsumeContext context) =>
        Header(context, DueAtHeader) is { } milliseconds ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) : null;

    /// <summary>How many times this message was made to wait by the provider so far.</summary>
    public static int Deferrals(ConsumeContext context) => (int)(Header(context, DeferralsHeader) ?? 0);

    /// <summary>The wait queue a copy due in <paramref name="remaining"/> goes to next: the longest whole hop that does not overshoot.</summary>
    public static int HopSeconds(TimeSpan remaining)
    {
        var seconds = Math.Clamp(remaining.TotalSeconds, 1, MaxHopSeconds);
        return 1 << (int)Math.Floor(Math.Log2(seconds));
    }

    public static string WaitQueueName(string queue, int hopSeconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{queue}_wait-{hopSeconds}s");

    /// <summary>
    /// Sends a copy of the consumed message on its way back to its queue, due at <paramref name="dueAt"/>; returns
    /// once the broker confirmed it. The caller then returns, and the original is acked.
    /// </summary>
    public async Task WaitAsync(ConsumeContext context, DateTimeOffset dueAt, int deferrals, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var received))
        {
            throw new InvalidOperationException("Delayed redelivery needs a message received from RabbitMQ.");
        }

        var queue = context.ReceiveContext.InputAddress.Segments[^1];
        var hop = HopSeconds(dueAt - TimeProvider.System.GetUtcNow());
        var waitQueue = WaitQueueName(queue, hop);
        var properties = new BasicProperties(received.Properties)
        {
            Persistent = true,
            Expiration = null,
            Headers = (received.Properties.Headers ?? new Dictionary<string, object?>())
                .Where(header => !IsBrokerDeadLetterHeader(header.Key))
                .ToDictionary(header => header.Key, header => header.Value, StringComparer.Ordinal),
        };
        properties.Headers[DueAtHeader] = dueAt.ToUnixTimeMilliseconds();
        properties.Headers[DeferralsHeader] = deferrals;

        var connection = await ConnectionAsync(cancellationToken);
        var options = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);
        await using var channel = await connection.CreateChannelAsync(options, cancellationToken);
        // Declared on every use: idempotent, cheap, and a queue an operator deleted comes back.
        await channel.QueueDeclareAsync(
            waitQueue,
            durable: true,
            exclusive: false,
            autoDelete: false,
            arguments: new Dictionary<string, object?>
            {
                ["x-message-ttl"] = hop * 1000,
                ["x-dead-letter-exchange"] = string.Empty,
                ["x-dead-letter-routing-key"] = queue,
            },
            cancellationToken: cancellationToken);
        // Mandatory and confirmed: a copy the broker did not take fails here, and the original is not acked.
        await channel.BasicPublishAsync(string.Empty, waitQueue, mandatory: true, properties, context.ReceiveContext.Body.GetBytes(), cancellationToken);
        await channel.CloseAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _connecting.Dispose();
    }

    private async Task<IConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true } open)
        {
            return open;
        }

        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true } opened)
            {
                return opened;
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }

            _connection = await RabbitMqConnections.ConnectAsync(rabbit.Value, "notification-worker redelivery", cancellationToken);
            return _connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private static bool IsBrokerDeadLetterHeader(string name) =>
        name.Equals("x-death", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("x-first-death-", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("x-last-death-", StringComparison.OrdinalIgnoreCase);

    private static long? Header(ConsumeContext context, string name)
    {
        if (!context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var received)
            || received.Properties.Headers is not { } headers
            || !headers.TryGetValue(name, out var value))
        {
            return null;
        }

        return value switch
        {
            byte[] text when long.TryParse(System.Text.Encoding.UTF8.GetString(text), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            IConvertible number => number.ToInt64(CultureInfo.InvariantCulture),
            _ => null,
        };
    }
}
