using Registration.Api;
using Registration.Api.Infrastructure;
using Registration.Api.Outbox;
using Registration.Hosting;

// `outbox-parked list|requeue`: an operator command, not the API.
if (ParkedOutboxCommand.Handles(args))
{
    return await ParkedOutboxCommand.RunAsync(args, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
return await ServiceRunner.RunAsync(builder, () =>
{
    builder.AddApplicationServices();
    var app = builder.Build();
    app.UseRequestPipeline();
    app.MapRoutes();
    return app;
});

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
