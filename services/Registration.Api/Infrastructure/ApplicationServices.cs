using Dapper;
using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Activation;
using Registration.Api.Database;
using Registration.Api.Outbox;
using Registration.Api.Users;

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
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(GetPostgresConnectionString(configuration)).Build());
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

        services.AddAuthentication(BasicAuthentication.Scheme)
            .AddScheme<AuthenticationSchemeOptions, BasicAuthenticationHandler>(BasicAuthentication.Scheme, null);
        services.AddAuthorization();

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

        builder.Services.AddOpenApi();

        return builder;
    }

    public static WebApplication MapApplication(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(static (context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        });
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapOpenApi();

        var users = app.MapGroup("/v1/users").WithTags("Users");
        users.MapPost("/", RegisterUser.HandleAsync)
            .WithName("RegisterUser")
            .Accepts<RegisterUserRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var me = users.MapGroup("/me").RequireAuthorization();
        me.MapGet("/", GetCurrentUser.HandleAsync).WithName("GetCurrentUser")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        me.MapPost("/activation", ActivateAccount.HandleAsync)
            .WithName("ActivateAccount")
            .Accepts<ActivateAccountRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        me.MapPost("/activation-code", ResendActivationCode.HandleAsync)
            .WithName("ResendActivationCode")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponses.WriteAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthResponses.WriteAsync,
        });

        return app;
    }

    /// <summary>Applies pending migrations before the API takes traffic.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseMigrator));
        await DatabaseMigrator.MigrateAsync(GetPostgresConnectionString(app.Configuration), logger, app.Lifetime.ApplicationStopping);
    }

    private static string GetPostgresConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") is { Length: > 0 } connectionString
            ? connectionString
            : throw new InvalidOperationException("ConnectionStrings:Postgres is not set (environment variable ConnectionStrings__Postgres).");
}
