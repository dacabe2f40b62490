using Microsoft.Extensions.Options;
using Notification.Worker.Infrastructure;

namespace Notification.Worker.Consumers;

/// <summary>Keeps <c>notification.processed_messages</c> small: an id is only useful while its code could still be sent.</summary>
internal sealed class ProcessedMessagesPurge(
    ProcessedMessages processedMessages,
    IOptions<ConsumerOptions> options,
    TimeProvider clock,
    ILogger<ProcessedMessagesPurge> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var cutoff = clock.GetUtcNow() - options.Value.ProcessedMessageRetention;
            try
            {
                var purged = await processedMessages.PurgeOlderThanAsync(cutoff, stoppingToken);
                if (purged > 0)
                {
                    Log.Purged(logger, purged, cutoff);
                }
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                Log.PurgeFailed(logger, ex);
            }

            try
            {
                await Task.Delay(Interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
