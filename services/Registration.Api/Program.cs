using Registration.Api;
using Registration.Api.Infrastructure;

var builder = WebApplication.CreateBuilder(args);
builder.AddApplicationServices();

var app = builder.Build();
app.UseRequestPipeline();
app.MapRoutes();
await app.RunAsync();

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
