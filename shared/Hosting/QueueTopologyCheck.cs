using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Registration.Hosting;

/// <summary>The queues of the endpoints MassTransit configured in this service (filled when the bus is built).</summary>
public sealed class EndpointQueues
{
    private readonly ConcurrentDictionary<string, byte> _names = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => [.. _names.Keys.Order(StringComparer.Ordinal)];

    internal void Add(string queue) => _names.TryAdd(queue, 0);
}

/// <summary>
/// Refuses to start when a queue this service declares already exists with other arguments: a classic
/// queue from before <c>RabbitMq:QuorumQueues</c>, or an <c>_error</c> queue with another retention. The
/// broker would refuse MassTransit's declaration (406 PRECONDITION_FAILED) and the endpoint would never
/// consume, with the reason buried in retries; a queue cannot change its type or arguments in place, so
/// the service stops at once and names the migration. Runs before the bus starts. When the broker is
/// unreachable at start the check is skipped (the services start without the broker by design); the
/// bus then reports the same refusal in its log and readiness once the broker is back.
/// </summary>
public sealed partial class QueueTopologyCheck(
    IServiceProvider services,
    IOptions<RabbitMqOptions> options,
    EndpointQueues endpoints,
    ILogger<QueueTopologyCheck> logger) : IHostedService
{
    public const string MigrationDocument = "docs/queues.md";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Building the bus configures its endpoints, which records their queue names.
        _ = services.GetRequiredService<IBus>();
        var settings = options.Value;
        var queues = endpoints.Names.SelectMany(endpoint => QueueTopology.QueuesOf(endpoint, settings)).ToArray();

        IConnection connection;
        try
        {
            connection = await RabbitMqConnections.ConnectAsync(settings, "queue topology check", cancellationToken, ConnectTimeout);
        }
        catch (Exception exception) when (exception is BrokerUnreachableException or OperationInterruptedException or TimeoutException or IOException)
        {
            LogSkipped(logger, settings.Host, settings.Port, exception.GetType().Name);
            return;
        }

        await using (connection)
        {
            var mismatches = new List<string>();
            foreach (var queue in queues)
            {
                if (await MismatchAsync(connection, queue, cancellationToken) is { } reason)
                {
                    // The broker names the first argument that differs, which for a classic queue need not be its type.
                    mismatches.Add(settings.QuorumQueues && await IsClassicAsync(connection, queue.Name, settings, cancellationToken)
                        ? $"'{queue.Name}' is a classic queue"
                        : reason);
                }
            }

            if (mismatches.Count > 0)
            {
                throw new QueueTopologyException(Explain(settings, mismatches));
            }
        }

        LogVerified(logger, queues.Length, settings.QuorumQueues ? "quorum" : "classic");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The broker's reason when <paramref name="queue"/> exists with other arguments; null when it matches or does not exist.</summary>
    public static async Task<string?> MismatchAsync(IConnection connection, QueueDeclaration queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(queue);
        // A refused declaration closes its channel: one channel per step.
        await using (var probe = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
        {
            try
            {
                await probe.QueueDeclarePassiveAsync(queue.Name, cancellationToken);
            }
            catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
            {
                return null; // MassTransit creates it as configured.
            }
        }

        await using var declare = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            // Declaring an existing queue with its own arguments changes nothing; with others the broker says which.
            await declare.QueueDeclareAsync(
                queue.Name, durable: true, exclusive: false, autoDelete: false,
                arguments: queue.Arguments.ToDictionary(pair => pair.Key, pair => (object?)pair.Value, StringComparer.Ordinal),
                cancellationToken: cancellationToken);
            return null;
        }
        catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 406)
        {
            return exception.ShutdownReason.ReplyText;
        }
    }

    /// <summary>True when the queue takes a classic declaration: none (as before quorum queues) or this version's classic one.</summary>
    private static async Task<bool> IsClassicAsync(IConnection connection, string queue, RabbitMqOptions settings, CancellationToken cancellationToken)
    {
        var classic = new RabbitMqOptions { QuorumQueues = false, DeliveryLimit = settings.DeliveryLimit, DeadLetterRetention = settings.DeadLetterRetention };
        IReadOnlyDictionary<string, object>[] declarations =
        [
            new Dictionary<string, object>(StringComparer.Ordinal),
            QueueTopology.DeadLetterQueueArguments(classic),
        ];
        foreach (var arguments in declarations)
        {
            if (await MismatchAsync(connection, new QueueDeclaration(queue, arguments), cancellationToken) is null)
            {
                return true;
            }
        }

        return false;
    }

    private static string Explain(RabbitMqOptions settings, IReadOnlyList<string> mismatches) =>
        $"RabbitMQ already has queues this service declares differently, so it would never consume from them: "
        + string.Join("; ", mismatches)
        + $". This version declares {(settings.QuorumQueues ? "quorum" : "classic")} queues (RabbitMq:QuorumQueues={settings.QuorumQueues.ToString().ToLowerInvariant()}, "
        + $"RabbitMq:DeliveryLimit={settings.DeliveryLimit}, RabbitMq:DeadLetterRetention={settings.DeadLetterRetention:c}) and a queue cannot change "
        + $"type or arguments in place: migrate the queues as {MigrationDocument} (\"Migrating existing queues\") describes, "
        + "or set the settings the queues were created with.";

    [LoggerMessage(EventId = 9010, Level = LogLevel.Warning,
        Message = "Queue check skipped: RabbitMQ at {Host}:{Port} unreachable at start ({Reason}); a queue declared with other arguments will show in the bus's errors once it is back")]
    private static partial void LogSkipped(ILogger logger, string host, int port, string reason);

    [LoggerMessage(EventId = 9011, Level = LogLevel.Debug, Message = "Queue check: {Count} existing or future queues match this service's {Type} topology")]
    private static partial void LogVerified(ILogger logger, int count, string type);
}

/// <summary>The broker's queues do not match what this service declares; the message says which and what to do.</summary>
public sealed class QueueTopologyException : InvalidOperationException
{
    public QueueTopologyException(string message) : base(message) { }

    public QueueTopologyException() { }

    public QueueTopologyException(string message, Exception innerException) : base(message, innerException) { }
}
