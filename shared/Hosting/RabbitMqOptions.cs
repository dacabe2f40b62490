using System.ComponentModel.DataAnnotations;

namespace Registration.Hosting;

/// <summary>
/// The broker both services talk to (<c>RabbitMq:*</c>), and how their queues are declared. Host and credentials have no default here: the
/// development ones live in appsettings.Development.json, so a production service without them refuses to
/// start instead of knocking on localhost as guest.
/// </summary>
public sealed class RabbitMqOptions
{
    public const string SectionName = "RabbitMq";

    [Required]
    public string Host { get; set; } = string.Empty;

    [Range(1, 65535)]
    public int Port { get; set; } = 5672;

    [Required]
    public string VirtualHost { get; set; } = "/";

    [Required]
    public string Username { get; set; } = string.Empty;

    [Required]
    public string Password { get; set; } = string.Empty;

    /// <summary>
    /// The services' queues and their <c>_error</c> queues are quorum queues (replicated with Raft,
    /// delivery limit); false declares classic queues. A queue cannot change type in place: see
    /// <see cref="QueueTopology"/> and docs/queues.md.
    /// </summary>
    public bool QuorumQueues { get; set; } = true;

    /// <summary>
    /// Quorum queues only: how many times the broker hands a message back to the queue (a consumer that
    /// crashed or stopped with it unacknowledged) before it moves it to the <c>_error</c> queue instead, so
    /// that a message that kills its consumer cannot do it forever.
    /// </summary>
    [Range(1, 1000)]
    public int DeliveryLimit { get; set; } = 10;

    /// <summary>
    /// How long a dead letter stays in an <c>_error</c> (or <c>_skipped</c>) queue before the broker drops
    /// it: dead letters hold addresses and codes, which are not kept forever.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(7);
}
