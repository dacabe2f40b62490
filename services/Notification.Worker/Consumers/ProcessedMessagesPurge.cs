using Microsoft.Extensions.Options;
using Notification.Worker.Infrastructure;
using Registration.Hosting;

namespace Notification.Worker.Consumers;

/// <summary>Keeps <c>notification.processed_messages</c> small: an id is only useful while its code could still be sent.</summary>
internal sealed class ProcessedMessagesPurge(
    MessageClaims claims,
    IOptions<ConsumerOptions> options,
    TimeProvider clock,
    ILogger<ProcessedMessagesPurge> logger) : PeriodicBackgroundService(clock, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromHours(1);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow() - options.Value.ProcessedMessageRetention;
        var purged = await claims.PurgeOlderThanAsync(cutoff, cancellationToken);
        if (purged > 0)
        {
            Log.Purged(Logger, purged, cutoff);
        }
    }
}
