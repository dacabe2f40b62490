using System.ComponentModel.DataAnnotations;

namespace Registration.Hosting;

/// <summary>
/// The broker both services talk to (<c>RabbitMq:*</c>). Host and credentials have no default here: the
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
}
