using Registration.Api;
using Registration.Api.Infrastructure;
using Registration.Api.Outbox;

// `outbox-parked list|requeue`: an operator command, not the API.
if (ParkedOutboxCommand.Handles(args))
{
    return await ParkedOutboxCommand.RunAsync(args, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddApplicationServices();

var app = builder.Build();
app.UseRequestPipeline();
app.MapRoutes();
await app.RunAsync();
return 0;

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
