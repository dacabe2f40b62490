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
    /// message), no usage telemetry. <paramref name="configureBus"/> adds the service's own consumers.
    /// </summary>
    public static IHostApplicationBuilder AddRabbitMqMessaging(
        this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> configureBus)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<RabbitMqOptions>()
            .BindConfiguration(RabbitMqOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry();
            bus.SetKebabCaseEndpointNameFormatter();
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
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
