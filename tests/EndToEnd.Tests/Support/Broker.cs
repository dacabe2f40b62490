using Microsoft.Extensions.Configuration;
using Notification.Worker.DeadLetters;
using Registration.Hosting;
using Registration.Testing;

namespace EndToEnd.Tests.Support;

/// <summary>The test's virtual host seen from outside, and the worker's <c>dead-letters</c> command run against it.</summary>
public static class Broker
{
    public const string ActivationEmailQueue = "activation-email";
    public const string ActivationEmailErrorQueue = "activation-email_error";
    public const string ExpiredBeforeDeliveryQueue = "expired-before-delivery";

    public static async Task<bool> QueueExistsAsync(RabbitMqVirtualHost vhost, string queue) =>
        await CountAsync(vhost, queue) is not null;

    /// <summary>Messages ready in a queue, or null when there is no such queue.</summary>
    public static async Task<uint?> CountAsync(RabbitMqVirtualHost vhost, string queue)
    {
        await using var queues = await DeadLetterQueues.ConnectAsync(Options(vhost), CancellationToken.None);
        return await queues.CountAsync(queue, CancellationToken.None);
    }

    /// <summary>
    /// <c>dotnet Notification.Worker.dll dead-letters ...</c>, in process: the same command, given the
    /// virtual host through configuration instead of the process's environment variables.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunDeadLettersAsync(RabbitMqVirtualHost vhost, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(vhost);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RabbitMq:Host"] = vhost.Host,
            ["RabbitMq:Port"] = vhost.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = vhost.VirtualHost,
            ["RabbitMq:Username"] = vhost.Username,
            ["RabbitMq:Password"] = vhost.Password,
        }).Build();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await DeadLetterCommand.RunAsync(
            ["dead-letters", .. args], configuration, output, error, configureQueues: null, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static RabbitMqOptions Options(RabbitMqVirtualHost vhost) => new()
    {
        Host = vhost.Host,
        Port = vhost.Port,
        VirtualHost = vhost.VirtualHost,
        Username = vhost.Username,
        Password = vhost.Password,
    };
}
