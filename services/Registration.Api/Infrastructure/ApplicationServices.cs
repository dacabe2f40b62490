using Dapper;
using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Npgsql;
using Registration.Api.Activation;
using Registration.Api.Outbox;
using Registration.Api.Users;
using Registration.Hosting;

namespace Registration.Api.Infrastructure;

/// <summary>All of the API's wiring, so Program.cs stays a few lines. The routes are in <see cref="Routes"/>.</summary>
public static class ApplicationServices
{
    /// <summary>Identifies the API's migrations among those of the services sharing its database.</summary>
    public static readonly SchemaMigrations Migrations = new(typeof(ApplicationServices).Assembly, "public", "schema_versions", 0x5245_4749_5354_5201);

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        // Email addresses are compared in NFC: refuse to start where this process cannot normalise (no ICU).
        EmailAddress.EnsureUnicodeNormalizationWorks();

        // First: the schema exists before anything else starts (hosted services start in order, Kestrel last);
        // then the address keys the migrations left to C# are computed, before any request needs them.
        builder.AddSchemaMigrations(Migrations);
        services.AddHostedService<EmailKeyBackfill>();
        builder.AddConsoleLoggingDefaults();
        // The authentication handlers' base class logs two Info lines per failed challenge ("was not
        // authenticated", "was challenged"): under a credential-stuffing run, thousands a second saying what
        // the 401s and the metrics already say. Their warnings and errors still show.
        builder.Logging.AddFilter(typeof(BasicAuthenticationHandler).FullName, LogLevel.Warning);
        builder.Logging.AddFilter(typeof(AdminKeyAuthenticationHandler).FullName, LogLevel.Warning);

        // Dapper maps snake_case columns onto PascalCase members.
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        services.AddOptions<ActivationOptions>().BindConfiguration(ActivationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.Configure<KestrelServerOptions>(kestrel => kestrel.AddServerHeader = false);

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(provider => new NpgsqlDataSourceBuilder(
            WithFailFastDefaults(provider.GetRequiredService<IConfiguration>().GetRequiredPostgres())).Build());
        services.AddSingleton<PasswordHasher>();
        services.AddHostedService<PasswordHasherStartup>();
        services.AddSingleton<ActivationCodeIssuer>();
        services.AddSingleton<AddressLimits>();
        services.AddSingleton<CodeVerifier>();
        services.AddSingleton<SignInThrottle>();

        services.AddHostedService<OutboxDispatcher>();
        services.AddHostedService<RetentionPurger>();

        // Before AddProblemDetails: the first writer that accepts a problem writes it, and ours accepts all.
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();

        // No default scheme: only the routes that require a user or an operator authenticate (through
        // their policy's scheme), so a stray Authorization header on /health or sign-up costs nothing.
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, BasicAuthenticationHandler>(BasicAuthentication.Scheme, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthentication.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminKeyAuthentication.Policy, policy => policy
                .AddAuthenticationSchemes(AdminKeyAuthentication.Scheme)
                .RequireRole(AdminKeyAuthentication.OperatorRole));
        services.AddRequestProtection();

        services.AddReadinessChecks();

        services.Configure<MassTransitHostOptions>(options =>
        {
            // Start even while the broker is down: registrations go to the outbox regardless.
            options.WaitUntilStarted = false;
            options.StopTimeout = TimeSpan.FromSeconds(30);
        });
        builder.AddRabbitMqMessaging(bus => bus.AddConsumer<ExpiredBeforeDeliveryConsumer, ExpiredBeforeDeliveryConsumerDefinition>());

        services.AddOpenApi(options => options.AddApiDescription());
        builder.AddTelemetry();

        return builder;
    }

    /// <summary>
    /// Npgsql waits 15 s to connect and 30 s for a command by default, and never probes an idle connection:
    /// behind a silent network a request would hang that long before its 503. Unless the connection
    /// string says otherwise: 5 s to connect (or to get a pooled connection), 10 s per command, and a
    /// keepalive that notices a dead peer in 30 s.
    /// </summary>
    internal static string WithFailFastDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var defaults = new NpgsqlConnectionStringBuilder();
        if (builder.Timeout == defaults.Timeout)
        {
            builder.Timeout = 5;
        }

        if (builder.CommandTimeout == defaults.CommandTimeout)
        {
            builder.CommandTimeout = 10;
        }

        if (builder.KeepAlive == defaults.KeepAlive)
        {
            builder.KeepAlive = 30;
        }

        return builder.ConnectionString;
    }
}
