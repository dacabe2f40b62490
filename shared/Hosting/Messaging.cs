using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Registration.Hosting;

public static class Messaging
{
    /// <summary>
    /// MassTransit on RabbitMQ as both services run it: <see cref="RabbitMqOptions"/> validated at start,
    /// kebab-case endpoint names, publisher confirms (a publish completes only once the broker has the
    /// message), no usage telemetry, and every endpoint's queues declared as <see cref="QueueTopology"/>
    /// says (quorum by default, a delivery limit, dead letters kept for a while), checked against the broker
    /// before the bus starts (<see cref="QueueTopologyCheck"/>). <paramref name="configureBus"/> adds the
    /// service's own consumers.
    /// </summary>
    public static IHostApplicationBuilder AddRabbitMqMessaging(
        this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> configureBus)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<RabbitMqOptions>()
            .BindConfiguration(RabbitMqOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var endpointQueues = new EndpointQueues();
        builder.Services.AddSingleton(endpointQueues);
        // Before MassTransit's own hosted service: hosted services start in registration order.
        builder.Services.AddHostedService<QueueTopologyCheck>();

        builder.Services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry();
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddConfigureEndpointsCallback((context, queueName, endpoint) =>
            {
                if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbitEndpoint)
                {
                    QueueTopology.Configure(rabbitEndpoint, queueName, context.GetRequiredService<IOptions<RabbitMqOptions>>().Value);
                    endpointQueues.Add(queueName);
                }
            });
            configureBus(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var settings = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                rabbit.Host(settings.Host, (ushort)settings.Port, settings.VirtualHost, host =>
                {
                    host.Username(settings.Username);
                    host.Password(settings.Password);
                    host.PublisherConfirmation = true;
                });
                // The queues MassTransit declares when it first moves a message there.
                rabbit.SendTopology.ConfigureErrorSettings = queue => QueueTopology.ReplaceArguments(queue, settings);
                rabbit.SendTopology.ConfigureDeadLetterSettings = queue => QueueTopology.ReplaceArguments(queue, settings);
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
