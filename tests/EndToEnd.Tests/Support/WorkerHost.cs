using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notification.Worker.Infrastructure;

namespace EndToEnd.Tests.Support;

/// <summary>
/// One Notification.Worker instance in process, as Program.cs builds it
/// (<see cref="NotificationWorkerExtensions.AddNotificationWorker"/>), with the environment's clock
/// and a <see cref="BusEvents"/> probe on its bus.
/// </summary>
public sealed class WorkerHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _disposed;

    private WorkerHost(IHost host, BusEvents events, CapturedLogs logs)
    {
        _host = host;
        Events = events;
        Logs = logs;
    }

    public BusEvents Events { get; }

    /// <summary>The worker's own log lines (Information and up), kept for the test to read.</summary>
    public CapturedLogs Logs { get; }

    public string Name => Events.Host;

    /// <remarks>
    /// Async all the way: MassTransit keeps its log context in an AsyncLocal, and a host started or
    /// stopped from a synchronous call would leave a disposed logger factory to the next host.
    /// </remarks>
    public static async Task<WorkerHost> StartAsync(
        string name, IReadOnlyDictionary<string, string?> settings, TimeProvider clock, IReadOnlyList<IConsumeObserver> observers)
    {
        // No defaults: neither the worker's appsettings.json nor the machine's environment variables.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        var logs = new CapturedLogs(name);
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information).AddFilter("MassTransit", LogLevel.Warning);
        if (EndToEndEnvironment.ShowLogs)
        {
            builder.Logging.AddSimpleConsole();
        }

        var events = new BusEvents(name);
        // MassTransit takes one observer per implementation type: the test's observers go in one.
        builder.Services.AddConsumeObserver(_ => new ConsumeObservers([events, .. observers]));

        builder.AddNotificationWorker();
        builder.Services.AddSingleton(clock);

        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(timeout.Token);
        // Started is not consuming yet: wait until the receive endpoints are bound, so that a test which
        // publishes right away (e.g. two workers expected to share a queue) sees every worker take part.
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        return new WorkerHost(host, events, logs);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _host.StopAsync(timeout.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}

/// <summary>Several consume observers as one, called in order.</summary>
internal sealed class ConsumeObservers(IReadOnlyList<IConsumeObserver> observers) : IConsumeObserver
{
    public async Task PreConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        foreach (var observer in observers)
        {
            await observer.PreConsume(context);
        }
    }

    public async Task PostConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        foreach (var observer in observers)
        {
            await observer.PostConsume(context);
        }
    }

    public async Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class
    {
        foreach (var observer in observers)
        {
            await observer.ConsumeFault(context, exception);
        }
    }
}
