using RabbitMQ.Client;

namespace Registration.Hosting;

/// <summary>
/// A plain RabbitMQ client connection to the configured broker, for what runs beside MassTransit (the start-up
/// queue check, the operator's dead-letters command): no automatic recovery, since each of them fails and is run
/// again rather than reconnect quietly.
/// </summary>
public static class RabbitMqConnections
{
    public static Task<IConnection> ConnectAsync(RabbitMqOptions options, string clientName, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var factory = new ConnectionFactory
        {
            HostName = options.Host,
            Port = options.Port,
            VirtualHost = options.VirtualHost,
            UserName = options.Username,
            Password = options.Password,
            ClientProvidedName = clientName,
            AutomaticRecoveryEnabled = false,
        };
        if (timeout is { } limit)
        {
            factory.RequestedConnectionTimeout = limit;
            factory.ContinuationTimeout = limit;
            factory.HandshakeContinuationTimeout = limit;
        }

        return factory.CreateConnectionAsync(cancellationToken);
    }
}
