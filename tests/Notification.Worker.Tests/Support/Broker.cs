using System.Text;
using System.Text.Json;
using Notification.Worker.DeadLetters;
using RabbitMQ.Client;
using Registration.Hosting;

namespace Notification.Worker.Tests.Support;

/// <summary>Looks into the test's virtual host with the plain RabbitMQ client.</summary>
public static class Broker
{
    public const string Queue = "activation-email";
    public const string ErrorQueue = "activation-email_error";

    private static readonly JsonSerializerOptions EnvelopeJson = new(JsonSerializerDefaults.Web);

    public static RabbitMqOptions Options(WorkerTestEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var vhost = environment.VirtualHost;
        return new RabbitMqOptions
        {
            Host = vhost.Host,
            Port = vhost.Port,
            VirtualHost = vhost.VirtualHost,
            Username = vhost.Username,
            Password = vhost.Password,
        };
    }

    public static async Task<uint> CountAsync(WorkerTestEnvironment environment, string queue)
    {
        await using var queues = await DeadLetterQueues.ConnectAsync(Options(environment), CancellationToken.None);
        return await queues.CountAsync(queue, CancellationToken.None) ?? 0;
    }

    /// <summary>The messages of a queue, left in place.</summary>
    public static async Task<IReadOnlyList<DeadLetter>> PeekAsync(WorkerTestEnvironment environment, string queue)
    {
        await using var queues = await DeadLetterQueues.ConnectAsync(Options(environment), CancellationToken.None);
        return await queues.PeekAsync(queue, 1000, CancellationToken.None);
    }

    /// <summary>
    /// Publishes a message in MassTransit's JSON envelope the way a foreign publisher might,
    /// with no MessageId anywhere.
    /// </summary>
    public static async Task PublishWithoutMessageIdAsync<T>(WorkerTestEnvironment environment, T message)
        where T : class
    {
        var envelope = JsonSerializer.SerializeToUtf8Bytes(new
        {
            messageType = new[] { $"urn:message:{typeof(T).Namespace}:{typeof(T).Name}" },
            sentTime = DateTimeOffset.UtcNow,
            message,
        }, EnvelopeJson);
        await using var connection = await Factory(environment).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true };
        await channel.BasicPublishAsync($"{typeof(T).Namespace}:{typeof(T).Name}", string.Empty, true, properties, envelope);
    }

    /// <summary>The headers of the first message of a queue, left in place.</summary>
    public static async Task<IDictionary<string, object?>> HeadersOfFirstAsync(WorkerTestEnvironment environment, string queue)
    {
        await using var connection = await Factory(environment).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var message = await channel.BasicGetAsync(queue, autoAck: false)
            ?? throw new InvalidOperationException($"{queue} is empty");
        var headers = message.BasicProperties.Headers ?? new Dictionary<string, object?>();
        await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true);
        return headers;
    }

    private static ConnectionFactory Factory(WorkerTestEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var vhost = environment.VirtualHost;
        return new ConnectionFactory
        {
            HostName = vhost.Host,
            Port = vhost.Port,
            VirtualHost = vhost.VirtualHost,
            UserName = vhost.Username,
            Password = vhost.Password,
        };
    }
}
