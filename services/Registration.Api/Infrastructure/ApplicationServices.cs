using Dapper;
using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Activation;
using Registration.Api.Database;
using Registration.Api.Operators;
using Registration.Api.Outbox;
using Registration.Api.Users;
using Scalar.AspNetCore;

namespace Registration.Api.Infrastructure;

/// <summary>All of the API's wiring, so Program.cs stays a few lines.</summary>
public static partial class ApplicationServices
{
    public const string ReadyTag = "ready";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        // Dapper maps snake_case columns onto PascalCase members.
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        services.AddOptions<ActivationOptions>().BindConfiguration(ActivationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);
        services.AddOptions<RabbitMqOptions>().BindConfiguration(RabbitMqOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(WithFailFastDefaults(GetPostgresConnectionString(configuration))).Build());
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<ActivationCodeIssuer>();

        services.AddHostedService<OutboxDispatcher>();
        services.AddHostedService<RetentionPurger>();

        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            // Framework-made problems (404 route, 405, 415, ...) get the contract's relative type URIs.
            if (problem.Type is null || problem.Type.StartsWith("https://", StringComparison.Ordinal))
            {
                problem.Type = ProblemTypes.ForStatus(problem.Status ?? context.HttpContext.Response.StatusCode);
            }

            problem.Detail = context.Exception is null ? problem.Detail : null;
        });
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

        services.AddHealthChecks()
            .AddNpgSql(name: "postgres", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3));

        services.Configure<MassTransitHostOptions>(options =>
        {
            // Start even while the broker is down: registrations go to the outbox regardless.
            options.WaitUntilStarted = false;
            options.StopTimeout = TimeSpan.FromSeconds(30);
        });
        services.AddMassTransit(bus =>
        {
            bus.ConfigureUsageTelemetryOptions(options => options.Enabled = false);
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddConsumer<ExpiredBeforeDeliveryConsumer, ExpiredBeforeDeliveryConsumerDefinition>();
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

        services.AddOpenApi(options => options.AddSecuritySchemes());
        builder.AddTelemetry();

        return builder;
    }

    public static WebApplication MapApplication(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Framework-made errors (404 route, 405, 415) as problem documents. Not the default UseStatusCodePages():
        // it answers text/plain when the Accept header rules out JSON; a ProblemHttpResult writes JSON regardless.
        app.UseStatusCodePages(context =>
        {
            var status = context.HttpContext.Response.StatusCode;
            return TypedResults.Problem(statusCode: status, type: ProblemTypes.ForStatus(status)).ExecuteAsync(context.HttpContext);
        });
        app.UseRequestProtection();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapOpenApi();
        // Scalar serves its own bundled script; no web fonts, no telemetry: the docs work offline.
        app.MapScalarApiReference("/docs", options => options.WithTitle("Registration API").DisableDefaultFonts().DisableTelemetry());

        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapUserEndpoints();
        app.MapOperatorEndpoints();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponses.WriteAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthResponses.WriteAsync,
            // MassTransit reports a bus that lost the broker as Degraded: not ready either.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });

        return app;
    }

    /// <summary>Applies pending migrations before the API takes traffic.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseMigrator));
        await DatabaseMigrator.MigrateAsync(GetPostgresConnectionString(app.Configuration), logger, app.Lifetime.ApplicationStopping);
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

    private static string GetPostgresConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") is { Length: > 0 } connectionString
            ? connectionString
            : throw new InvalidOperationException("ConnectionStrings:Postgres is not set (environment variable ConnectionStrings__Postgres).");
}
