using Microsoft.Extensions.Options;
using Notification.Worker.Infrastructure;
using Registration.Hosting;

namespace Notification.Worker.DeadLetters;

/// <summary>
/// Reads the error queues' depth now and then for the <c>notification.dead_letters</c> gauge (passive
/// declarations: no management API needed). While the broker is unreachable the gauge keeps its last value;
/// the bus reports the outage itself.
/// </summary>
public sealed class DeadLetterDepthProbe(
    IOptions<RabbitMqOptions> rabbit,
    IOptions<TelemetryOptions> options,
    NotificationMetrics metrics,
    ILogger<DeadLetterDepthProbe> logger) : PeriodicBackgroundService(TimeProvider.System, logger)
{
    protected override TimeSpan Interval => options.Value.DeadLetterPollInterval;

    // Every 30 s all through a broker outage, which the bus and the health check already report.
    protected override LogLevel FailureLevel => LogLevel.Debug;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var queues = await DeadLetterQueues.ConnectAsync(rabbit.Value, cancellationToken);
        long total = 0;
        foreach (var queue in DeadLetterQueues.KnownErrorQueues)
        {
            total += await queues.CountAsync(queue, cancellationToken) ?? 0;
        }

        metrics.DeadLetters(total);
    }
}
