using Registration.Api;
using Registration.Api.Infrastructure;
using Registration.Hosting;

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
