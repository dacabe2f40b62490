using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Registration.Hosting;

/// <summary>
/// Runs a service so that a start-up failure (a setting missing or out of range, a database that cannot be
/// reached or is not UTF-8, a port in use) ends it cleanly: one critical log line that says what is wrong,
/// and exit code 1, instead of an unhandled exception (exit 134) and a stack trace of a hundred lines.
/// </summary>
public static partial class ServiceRunner
{
    /// <summary>Exit code of a service that could not start.</summary>
    public const int StartupFailed = 1;

    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <param name="builder">The service's builder: its configuration names the console format of the line.</param>
    /// <param name="buildHost">Registers the services, builds the host and sets it up (a web app's pipeline).</param>
    public static async Task<int> RunAsync(IHostApplicationBuilder builder, Func<IHost> buildHost)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(buildHost);
        // The host reports a failed start itself ("Hosting failed to start", at Error, with the whole stack):
        // this runner's line replaces it. Its Critical lines (a background service that stops the host) stay.
        builder.Logging.AddFilter(HostCategory, LogLevel.Critical);
        IHost? host = null;
        try
        {
            host = buildHost();
            await host.StartAsync();
        }
        catch (Exception exception) when (exception is not HostAbortedException)
        {
            // Before the host exists (a setting read while registering) there is no logger yet: one made from
            // the same configuration writes the line in the same format.
            var loggerFactory = host?.Services.GetRequiredService<ILoggerFactory>() ?? CreateBootstrapLoggerFactory(builder.Configuration);
            var logger = loggerFactory.CreateLogger(typeof(ServiceRunner).FullName!);
            var reason = Describe(exception);
            LogStartupFailed(logger, builder.Environment.ApplicationName, reason);

            // Only the loggers are disposed (it flushes the console): disposing the host would stop what never
            // started (the bus), which says so in a line of its own. The process ends here anyway.
            loggerFactory.Dispose();
            return StartupFailed;
        }

        await host.WaitForShutdownAsync();
        await DisposeAsync(host);
        return Environment.ExitCode;
    }

    /// <summary>
    /// The messages of an exception and of its causes, one sentence each, without types or stack: what an
    /// operator needs to fix the setting (an options validation already lists every failed member).
    /// </summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var messages = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is AggregateException aggregate && aggregate.InnerExceptions.Count > 1)
            {
                messages.AddRange(aggregate.InnerExceptions.Select(Describe));
                break;
            }

            var message = current.Message.ReplaceLineEndings(" ").Trim();
            if (message.Length > 0 && !messages.Any(previous => previous.Contains(message, StringComparison.Ordinal)))
            {
                messages.Add(message);
            }
        }

        return string.Join(" <- ", messages);
    }

    private static ILoggerFactory CreateBootstrapLoggerFactory(IConfiguration configuration) =>
        LoggerFactory.Create(logging => logging
            .AddConfiguration(configuration.GetSection("Logging"))
            .AddConsole());

    private static async Task DisposeAsync(IHost host)
    {
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }

    [LoggerMessage(EventId = 9001, EventName = "StartupFailed", Level = LogLevel.Critical, Message = "{Service} cannot start: {Reason}")]
    private static partial void LogStartupFailed(ILogger logger, string service, string reason);
}
