using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Registration.Testing;

namespace Resilience.Tests.Support;

/// <summary>Looks at a queue of the test's virtual host directly (never through a proxy).</summary>
public static class BrokerQueues
{
    public const string ActivationEmail = "activation-email";
    public const string ActivationEmailErrors = "activation-email_error";
    public const string ExpiredBeforeDelivery = "expired-before-delivery";

    /// <summary>Ready messages and consumers of a queue, or null when it does not exist (yet).</summary>
    public static async Task<QueueState?> InspectAsync(RabbitMqVirtualHost vhost, string queue)
    {
        ArgumentNullException.ThrowIfNull(vhost);
        var factory = new ConnectionFactory
        {
            HostName = vhost.Host,
            Port = vhost.Port,
            VirtualHost = vhost.VirtualHost,
            UserName = vhost.Username,
            Password = vhost.Password,
            AutomaticRecoveryEnabled = false,
        };
        await using var connection = await factory.CreateConnectionAsync();
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
}

public sealed record QueueState(uint Messages, uint Consumers);
