using OpenTelemetry;
using OpenTelemetry.Trace;

namespace EndToEnd.Tests;

/// <summary>
/// Traces and metrics carry the service name the operator gives through the standard OTEL_SERVICE_NAME (or
/// <c>service.name</c> in OTEL_RESOURCE_ATTRIBUTES), and the service's own name otherwise: both services.
/// </summary>
public sealed class ServiceNameTests(TestEnvironment environment) : IClassFixture<TestEnvironment>
{
    [Fact]
    public async Task Api_HonoursOtelServiceName_AndOtherwiseNamesItselfRegistrationApi()
    {
        var named = await environment.StartApiAsync(settings => settings.Set("OTEL_SERVICE_NAME", "signup-eu-1"), waitUntilReady: false);
        var unnamed = await environment.StartApiAsync(waitUntilReady: false);

        ServiceName(named.Services).Should().Be("signup-eu-1");
        ServiceName(unnamed.Services).Should().Be("registration-api");
    }

    [Fact]
    public async Task Worker_HonoursOtelServiceName_AndOtelResourceAttributes_AndOtherwiseNamesItselfNotificationWorker()
    {
        await using var named = await environment.StartWorkerAsync(settings => settings.Set("OTEL_SERVICE_NAME", "mailer-eu-1"));
        await using var attributed = await environment.StartWorkerAsync(settings => settings.Set("OTEL_RESOURCE_ATTRIBUTES", "service.name=mailer-eu-2,deployment.environment=test"));
        await using var unnamed = await environment.StartWorkerAsync();

        ServiceName(named.Services).Should().Be("mailer-eu-1");
        ServiceName(attributed.Services).Should().Be("mailer-eu-2");
        ServiceName(unnamed.Services).Should().Be("notification-worker");
    }

    private static string? ServiceName(IServiceProvider services) =>
        ((TracerProvider)services.GetService(typeof(TracerProvider))!).GetResource().Attributes
            .Single(attribute => attribute.Key == "service.name").Value as string;
}
