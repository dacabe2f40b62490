using RabbitMQ.Client;
using Registration.Hosting;

namespace Notification.Worker.Infrastructure;

/// <summary>
/// Plain RabbitMQ client connections, for what the worker does with the broker beside MassTransit's bus:
/// the dead-letter commands and probe, and the wait queues of delayed redelivery.
/// </summary>
internal static class BrokerConnections
{
    /// <summary>
    /// Connects as <paramref name="options"/> say, named <paramref name="name"/> in the management UI. No
    /// automatic recovery: the caller fails and tries again with a new connection rather than waiting on a
    /// connection that recovers in the background.
    /// </summary>
    public static Task<IConnection> ConnectAsync(RabbitMqOptions options, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var factory = new ConnectionFactory
        {
            HostName = options.Host,
            Port = options.Port,
            VirtualHost = options.VirtualHost,
            UserName = options.Username,
            Password = options.Password,
            ClientProvidedName = name,
            AutomaticRecoveryEnabled = false,
        };
        return factory.CreateConnectionAsync(cancellationToken);
    }
}
