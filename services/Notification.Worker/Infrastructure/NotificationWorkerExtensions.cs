using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notification.Worker.Consumers;
using Notification.Worker.Email;
using Notification.Worker.Redelivery;
using Npgsql;
using Registration.Hosting;

namespace Notification.Worker.Infrastructure;

public static class NotificationWorkerExtensions
{
    /// <summary>Identifies the worker's migrations (schema <c>notification</c>) among those of the services sharing its database.</summary>
    public static readonly SchemaMigrations Migrations = new(typeof(NotificationWorkerExtensions).Assembly, "notification", "schema_versions", 0x6E6F_7469_6669_6361);

    /// <summary>
    /// Everything the worker runs: its schema, the email provider client, and the MassTransit
    /// bus with the activation email consumer.
    /// </summary>
    /// <param name="configureBus">Extra bus registrations (the tests add probes).</param>
    public static IHostApplicationBuilder AddNotificationWorker(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? configureBus = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        // First: hosted services start in registration order, so the schema exists before the bus delivers.
        builder.AddSchemaMigrations(Migrations);
        builder.AddConsoleLoggingDefaults();
        // One line per failed send, the consumer's, with the provider's reason: not MassTransit's retry and fault
        // lines for the same failure, nor Polly's lines for each HTTP attempt of it. (An open circuit shows in
        // the consumer's line: "circuit is open after repeated failures".)
        ExpectedFailureLogFilter.Register(services);
        builder.Logging.AddFilter("Polly", LogLevel.Critical);

        services.AddOptions<ConsumerOptions>()
            .BindConfiguration(ConsumerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        var connectionString = builder.Configuration.GetRequiredPostgres();
        services.AddSingleton(_ => NpgsqlDataSource.Create(ForConcurrentCommands(connectionString)));
        services.AddSingleton<MessageClaims>();
        services.AddSingleton<WaitQueues>();
        services.AddHostedService<ProcessedMessagesPurge>();

        services.AddEmailSender(builder.Configuration);
        if (builder.Environment.IsProduction())
        {
            // The design: in Production a missing setting must never silently mean "log the codes" (Console).
            var provider = builder.Configuration[$"{EmailOptions.SectionName}:{nameof(EmailOptions.Provider)}"];
            services.AddOptions<EmailOptions>().Validate(
                _ => !string.IsNullOrWhiteSpace(provider),
                "Email:Provider is not set (environment variable Email__Provider): in Production name the provider explicitly, Mailjet, Mailpit or Console.");
        }
        builder.AddWorkerTelemetry();

        builder.AddRabbitMqMessaging(bus =>
        {
            bus.AddConsumer<ActivationEmailConsumer, ActivationEmailConsumerDefinition>();
            configureBus?.Invoke(bus);
        });

        // On SIGTERM: stop taking messages, let in-flight sends finish for StopTimeout, then
        // cancel them; a cancelled message is not acked and goes back to the queue.
        services.AddOptions<MassTransitHostOptions>().Configure<IOptions<ConsumerOptions>>((host, consumer) =>
        {
            host.WaitUntilStarted = true;
            host.ConsumerStopTimeout = consumer.Value.StopTimeout;
            host.StopTimeout = consumer.Value.StopTimeout + TimeSpan.FromSeconds(5);
        });
        services.AddOptions<HostOptions>().Configure<IOptions<ConsumerOptions>>((host, consumer) =>
            host.ShutdownTimeout = consumer.Value.StopTimeout + TimeSpan.FromSeconds(10));

        return builder;
    }

    /// <summary>
    /// The worker sends many small, independent commands from concurrent consumers, the same few over and
    /// over (the claim and the record of every email):
    /// <list type="bullet">
    /// <item>multiplexing lets them share a few connections and network writes (pipeline benchmark: +13 %
    /// emails/s, a quarter less PostgreSQL CPU per email);</item>
    /// <item>automatic preparation has PostgreSQL parse and plan each of them once per connection instead of on
    /// every execution (pipeline benchmark: PostgreSQL 576 → 316 µs of CPU per email).</item>
    /// </list>
    /// Either is left as the connection string sets it.
    /// </summary>
    internal static string ForConcurrentCommands(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Multiplexing", StringComparison.OrdinalIgnoreCase))
        {
            builder.Multiplexing = true;
        }

        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 16;
        }

        return builder.ConnectionString;
    }
}
