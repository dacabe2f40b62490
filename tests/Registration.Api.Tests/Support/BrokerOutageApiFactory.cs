using Registration.Testing;

namespace Registration.Api.Tests.Support;

/// <summary>
/// The API reaching RabbitMQ through a <see cref="SwitchableTcpProxy"/>, so a test can cut the broker off
/// and bring it back. Publishes time out after one second and failed rows are retried at least every
/// second, so the outage and the recovery take seconds, not the production defaults.
/// </summary>
public sealed class BrokerOutageApiFactory : ApiFactory
{
    public SwitchableTcpProxy BrokerProxy { get; private set; } = null!;

    protected override (string Host, int Port) RabbitMqEndpoint => ("127.0.0.1", BrokerProxy.Port);

    protected override Task BeforeStartAsync()
    {
        BrokerProxy = SwitchableTcpProxy.Start(VirtualHost.Host, VirtualHost.Port);
        return Task.CompletedTask;
    }

    protected override async Task AfterStopAsync() => await BrokerProxy.DisposeAsync();

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        settings["Outbox:PublishTimeout"] = "00:00:01";
        settings["Outbox:MaxRetryDelay"] = "00:00:01";
    }
}
