using System.ComponentModel.DataAnnotations;

namespace Notification.Worker.Infrastructure;

/// <summary>How the activation email consumer takes messages, retries them and stops.</summary>
public sealed class ConsumerOptions
{
    public const string SectionName = "Consumer";

    /// <summary>Messages handled at once by one worker instance.</summary>
    [Range(1, 1000)]
    public int ConcurrentMessageLimit { get; set; } = 8;

    /// <summary>Messages the broker hands one instance ahead of time (at least the concurrency).</summary>
    [Range(1, 10_000)]
    public int PrefetchCount { get; set; } = 16;

    /// <summary>
    /// MassTransit retries of a message whose send failed transiently (after the HTTP retries).
    /// 0 sends a failing message to the error queue at once.
    /// </summary>
    [Range(0, 20)]
    public int MessageRetryLimit { get; set; } = 4;

    /// <summary>Wait before the first message retry; each following wait doubles, up to the maximum.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MessageRetryInitialInterval { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MessageRetryMaxInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On shutdown, how long in-flight sends may run before they are cancelled and their messages go back to the queue.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a worker's claim on a message lasts before another worker may take the message over. A
    /// live worker renews it every third of this while a send takes long; a worker that died holds its
    /// messages up only this long after its last renewal.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a processed MessageId is remembered. A redelivery after this is still not
    /// emailed twice in practice: its code (one minute) has long expired by then.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan ProcessedMessageRetention { get; set; } = TimeSpan.FromDays(2);

    /// <summary>The growing waits of the message retry: initial, doubled each time, capped.</summary>
    public TimeSpan[] MessageRetryIntervals()
    {
        var intervals = new TimeSpan[MessageRetryLimit];
        var next = MessageRetryInitialInterval;
        for (var i = 0; i < intervals.Length; i++)
        {
            intervals[i] = next < MessageRetryMaxInterval ? next : MessageRetryMaxInterval;
            next += next;
        }

        return intervals;
    }
}
