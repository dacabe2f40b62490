using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Registration.Hosting;

/// <summary>
/// Work that runs now and then for as long as the service runs (purges, probes): once at start, then every
/// <see cref="Interval"/> on <paramref name="timeProvider"/>. A failed pass is logged and the next one runs on
/// time: maintenance must never stop the service.
/// </summary>
public abstract partial class PeriodicBackgroundService(TimeProvider timeProvider, ILogger logger) : BackgroundService
{
    /// <summary>The clock the passes are timed on; also the work's own clock.</summary>
    protected TimeProvider Clock { get; } = timeProvider;

    protected ILogger Logger { get; } = logger;

    /// <summary>Time between the starts of two passes.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>One pass of the work.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>How loud a failed pass is: a probe that fails all through an outage another component reports can be quieter.</summary>
    protected virtual LogLevel FailureLevel => LogLevel.Warning;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, Clock);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogPassFailed(Logger, FailureLevel, GetType().Name, exception);
            }
        }
        while (await NextTickAsync(timer, stoppingToken));
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 9001, EventName = "PeriodicPassFailed", Message = "{Work} failed; it runs again at the next interval")]
    private static partial void LogPassFailed(ILogger logger, LogLevel level, string work, Exception exception);
}
