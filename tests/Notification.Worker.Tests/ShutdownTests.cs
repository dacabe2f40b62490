namespace Notification.Worker.Tests;

/// <summary>SIGTERM (host stop) while an email is being sent.</summary>
public sealed class ShutdownTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task Stop_LetsAnInFlightSendFinish()
    {
        Environment.Provider.Accept(delay: TimeSpan.FromSeconds(1));
        var worker = await Environment.StartWorkerAsync(settings => settings.StopTimeout(TimeSpan.FromSeconds(10)));
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => worker.Events.Started(messageId), n => n == 1, "the send to start");

        await worker.DisposeAsync();

        (await Environment.Database.GetProcessedOutcomeAsync(messageId)).Should().Be("sent");
        (await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailQueue)).Should().Be(0, "the message was acked before the worker stopped");
    }

    [Fact]
    public async Task Stop_ReturnsASendThatOutlivesTheStopTimeoutToTheQueue()
    {
        Environment.Provider.Accept(delay: TimeSpan.FromSeconds(8));
        var worker = await Environment.StartWorkerAsync(settings => settings
            .StopTimeout(TimeSpan.FromMilliseconds(500))
            .ProviderTimeouts(attempt: TimeSpan.FromSeconds(20), total: TimeSpan.FromSeconds(30)));
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => worker.Events.Started(messageId), n => n == 1, "the send to start");

        await worker.DisposeAsync();

        (await Environment.Database.GetProcessedOutcomeAsync(messageId)).Should().BeNull();
        (await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue)).Should().Be(0, "a cancelled send is not a failure");
        (await Broker.CountAsync(Environment.VirtualHost, Broker.ActivationEmailQueue)).Should().Be(1, "the unfinished message waits for the next worker");
    }
}
