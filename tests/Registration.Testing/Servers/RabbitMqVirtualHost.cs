namespace Registration.Testing.Servers;

/// <summary>
/// A RabbitMQ virtual host of one test class, with the credentials that may use it.
/// </summary>
public sealed record RabbitMqVirtualHost(string Host, int Port, string VirtualHost, string Username, string Password)
{
    /// <summary>
    /// <c>amqp://user:pass@host:port/vhost</c>, every part escaped: the virtual host is the
    /// single path segment of an AMQP URI, so <c>/</c> becomes <c>%2F</c>.
    /// </summary>
    // Built as a string rather than with UriBuilder, whose Path setter would escape the
    // '%' of an already escaped virtual host a second time.
    public Uri AmqpUri => new(string.Create(
        CultureInfo.InvariantCulture,
        $"amqp://{Uri.EscapeDataString(Username)}:{Uri.EscapeDataString(Password)}@{Host}:{Port}/{Uri.EscapeDataString(VirtualHost)}"));
}
