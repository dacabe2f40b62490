using Registration.Hosting;

namespace EndToEnd.Tests;

/// <summary>
/// The queues both services declare (<c>RabbitMq:QuorumQueues</c>, <c>DeliveryLimit</c>, <c>DeadLetterRetention</c>)
/// as the broker's management API reports them, and the start-up check that refuses queues declared
/// otherwise. Tests that need queues of their own use a virtual host of their own.
/// </summary>
public sealed class QueueTopologyTests(TestEnvironment environment) : IClassFixture<TestEnvironment>
{
    /// <summary>The API's queue: its consumer of the worker's expired-code events.</summary>
    private const string ApiQueue = "expired-before-delivery";

    private static readonly string SevenDaysInMilliseconds = TimeSpan.FromDays(7).TotalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task ServiceQueues_AreQuorumQueues_WithADeliveryLimit_AndTheirErrorQueuesExistFromTheStart_KeepingDeadLettersSevenDays()
    {
        await using var api = await environment.StartApiAsync();
        await using var worker = await environment.StartWorkerAsync();

        foreach (var queue in new[] { Broker.ActivationEmailQueue, ApiQueue })
        {
            var declared = await environment.DescribeQueueAsync(queue);
            declared.Should().NotBeNull();
            declared!.Type.Should().Be("quorum", $"{queue} is a quorum queue by default");
            declared.Arguments.Should().Contain("x-delivery-limit", "10").And.Contain("x-dead-letter-exchange", queue + "_error");

            var error = await environment.DescribeQueueAsync(queue + "_error");
            error.Should().NotBeNull("the error queue is declared at start: the broker's dead-lettering needs it before the first fault");
            error!.Type.Should().Be("quorum");
            error.Arguments.Should().Contain("x-message-ttl", SevenDaysInMilliseconds)
                .And.NotContainKey("x-delivery-limit", "dead-letters list looks at messages by taking and returning them, which would count")
                .And.NotContainKey("x-dead-letter-exchange", "an expired dead letter is dropped, not moved on");
        }

        // A second instance of each on the queues the first declared: the check finds them as it would declare them.
        await using var secondWorker = await environment.StartWorkerAsync();
        await using var secondApi = await environment.StartApiAsync();
    }

    [Fact]
    public async Task QuorumQueuesOff_DeclaresClassicQueues_WithoutDeliveryLimit_ButStillWithTheRetention()
    {
        var vhost = await environment.NewVirtualHostAsync();

        await using var worker = await environment.StartWorkerAsync(settings => settings.Broker(vhost).Queues(quorum: false, deadLetterRetention: TimeSpan.FromDays(2)));

        var queue = await environment.DescribeQueueAsync(Broker.ActivationEmailQueue, vhost);
        queue!.Type.Should().Be("classic");
        queue.Arguments.Should().BeEmpty("classic queues are declared as before quorum queues existed");
        var error = await environment.DescribeQueueAsync(Broker.ActivationEmailErrorQueue, vhost);
        error!.Type.Should().Be("classic");
        error.Arguments.Should().Equal(new Dictionary<string, string> { ["x-message-ttl"] = "172800000" });
    }

    [Fact]
    public async Task Worker_RefusesToStart_NamingTheMigration_WhenItsQueueIsStillAClassicQueue()
    {
        var vhost = await environment.NewVirtualHostAsync();
        // As every version before quorum queues left it.
        await Broker.DeclareQueueAsync(vhost, Broker.ActivationEmailQueue);

        var start = () => environment.StartWorkerAsync(settings => settings.Broker(vhost));

        var refusal = (await start.Should().ThrowAsync<QueueTopologyException>()).Which;
        refusal.Message.Should().Contain("'activation-email' is a classic queue")
            .And.Contain(QueueTopologyCheck.MigrationDocument).And.Contain("RabbitMq:QuorumQueues");
        (await environment.DescribeQueueAsync(Broker.ActivationEmailQueue, vhost))!.Type.Should().Be("classic", "the check changes nothing");
    }

    [Fact]
    public async Task WorkerProcess_ExitsWithAnError_NamingTheMigration_WhenItsQueueIsStillAClassicQueue()
    {
        var vhost = await environment.NewVirtualHostAsync();
        await Broker.DeclareQueueAsync(vhost, Broker.ActivationEmailQueue);

        await using var worker = ServiceProcess.Start("worker-on-a-classic-queue", ServiceProcess.Worker, environment.WorkerSettings().Broker(vhost));
        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().Be(ServiceRunner.StartupFailed, "an orchestrator must see the start fail");
        worker.Output.Should().Contain(QueueTopologyCheck.MigrationDocument).And.Contain("'activation-email' is a classic queue");
    }

    [Fact]
    public async Task ApiProcess_ExitsWithAnError_NamingTheMigration_WhenItsQueueIsStillAClassicQueue()
    {
        // As a process: the API's runner turns a failed start into one line and exit code 1, which an
        // in-process host cannot observe.
        var vhost = await environment.NewVirtualHostAsync();
        await Broker.DeclareQueueAsync(vhost, ApiQueue);

        await using var api = ServiceProcess.Start(
            "api-on-a-classic-queue", ServiceProcess.Api, environment.ApiSettings().Broker(vhost).Set("ASPNETCORE_URLS", "http://127.0.0.1:0"));
        var exitCode = await api.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().Be(ServiceRunner.StartupFailed, "an orchestrator must see the start fail");
        api.Output.Should().Contain($"'{ApiQueue}' is a classic queue").And.Contain(QueueTopologyCheck.MigrationDocument);
        (await environment.DescribeQueueAsync(ApiQueue, vhost))!.Type.Should().Be("classic", "the check changes nothing");
    }

    [Fact]
    public async Task Worker_RefusesToStart_WhenItsErrorQueueWasDeclaredWithAnotherRetention()
    {
        var vhost = await environment.NewVirtualHostAsync();
        await using (await environment.StartWorkerAsync(settings => settings.Broker(vhost)))
        {
        }

        var start = () => environment.StartWorkerAsync(settings => settings.Broker(vhost).Queues(deadLetterRetention: TimeSpan.FromDays(1)));

        (await start.Should().ThrowAsync<QueueTopologyException>()).Which.Message
            .Should().Contain("'activation-email_error'").And.Contain("x-message-ttl").And.Contain("RabbitMq:DeadLetterRetention=1.00:00:00");
    }

    [Fact]
    public async Task Api_StartsWhileTheBrokerIsDown_SkippingTheCheck_AndTakesRegistrations()
    {
        await environment.BrokerProxy.TurnOffAsync();

        await using var api = await environment.StartApiAsync(settings => settings.BrokerVia(environment.BrokerProxy), waitUntilReady: false);
        using var client = api.CreateApiClient();
        using var registered = await client.RegisterAsync(TestUser.New("broker-down"));

        registered.StatusCode.Should().Be(HttpStatusCode.Created, "the event waits in the outbox");
        api.Logs.Lines.Should().Contain(line => line.EventId == 9010, "the skipped check is logged");
        environment.BrokerProxy.TurnOn();
        await api.WaitUntilReadyAsync();
    }
}
