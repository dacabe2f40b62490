using Notification.Worker.DeadLetters;

namespace Notification.Worker.Tests;

/// <summary>
/// What the queues' own arguments do to dead letters: a quorum queue's delivery limit moves a message that keeps
/// coming back to the error queue, and the error queue drops a dead letter once the retention has passed;
/// <c>dead-letters list</c> says why a message is there and when it goes. Each test declares its queues in a
/// virtual host of its own, with the settings it is about.
/// </summary>
public sealed class DeadLetterRetentionTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task AMessageReturnedMoreOftenThanTheDeliveryLimit_GoesToTheErrorQueue_ListSaysWhy_AndReplayEmailsIt()
    {
        var vhost = await Environment.NewVirtualHostAsync();
        Action<TestSettings> limitOfTwo = settings => settings.Broker(vhost).Queues(deliveryLimit: 2);
        // The worker declares its queues, then stops: the message waits for the "crashing consumer" below.
        await using (await Environment.StartWorkerAsync(limitOfTwo))
        {
        }

        var messageId = Guid.NewGuid();
        await Broker.PublishAsync(vhost, TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(30)), messageId);

        // Taken and handed back twice, as by a consumer that crashes holding it: within the limit, still queued.
        (await Broker.ReturnHeadAsync(vhost, Broker.ActivationEmailQueue, times: 2)).Should().Be(2);
        (await Broker.CountAsync(vhost, Broker.ActivationEmailQueue)).Should().Be(1);
        (await Broker.CountAsync(vhost, Broker.ActivationEmailErrorQueue)).Should().Be(0);
        // Once more: past the limit, the broker moves it to the error queue.
        (await Broker.ReturnHeadAsync(vhost, Broker.ActivationEmailQueue, times: 1)).Should().Be(1);
        await Eventually.GetAsync(() => Broker.CountAsync(vhost, Broker.ActivationEmailErrorQueue), n => n == 1, "the message in the error queue");
        (await Broker.CountAsync(vhost, Broker.ActivationEmailQueue)).Should().Be(0);

        var settings = Environment.WorkerSettings();
        limitOfTwo(settings);
        var (listed, listOutput, _) = await WorkerCommand.RunDeadLettersAsync(settings, ["list"]);
        listed.Should().Be(DeadLetterCommand.Done);
        listOutput.Should().Contain("activation-email_error: 1 message(s), each dropped by RabbitMQ 7d00h after it failed")
            .And.Contain(messageId.ToString())
            .And.Contain("dead-lettered by RabbitMQ: delivery_limit")
            .And.Contain("EXPIRES IN").And.Contain("6d23h");

        var (replayed, _, _) = await WorkerCommand.RunDeadLettersAsync(settings, ["replay"]);
        replayed.Should().Be(DeadLetterCommand.Done);
        await using var worker = await Environment.StartWorkerAsync(limitOfTwo);
        (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle();
    }

    [Fact]
    public async Task ADeadLetter_IsDroppedByTheBroker_OnceTheRetentionHasPassed_AndListSaysItIsAboutToGo()
    {
        var vhost = await Environment.NewVirtualHostAsync();
        // The broker's clock, not ours: a retention of seconds, and the test waits for the broker to act.
        Action<TestSettings> shortRetention = settings => settings.Broker(vhost).Queues(deadLetterRetention: TimeSpan.FromSeconds(3));
        Environment.Provider.FailWith(400, body: "bad request");
        await using var worker = await Environment.StartWorkerAsync(shortRetention);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => Broker.CountAsync(vhost, Broker.ActivationEmailErrorQueue), n => n == 1, "the message in the error queue");
        var settings = Environment.WorkerSettings();
        shortRetention(settings);
        var (_, listOutput, _) = await WorkerCommand.RunDeadLettersAsync(settings, ["list"]);

        listOutput.Should().Contain("each dropped by RabbitMQ 3s after it failed").And.Contain("1 of them expire within a day");
        await Eventually.GetAsync(
            () => Broker.CountAsync(vhost, Broker.ActivationEmailErrorQueue), n => n == 0, "the broker dropped the dead letter", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Table_WithTheRetention_ShowsWhenEachDeadLetterExpires()
    {
        var now = new DateTimeOffset(2030, 1, 8, 12, 0, 0, TimeSpan.Zero);
        DeadLetter Failed(string id, TimeSpan ago) =>
            new("activation-email_error", id, "UserRegistered", now - ago - TimeSpan.FromSeconds(5), now - ago, null, "Mailjet answered 400");
        var letters = new[] { Failed("fresh", TimeSpan.FromMinutes(1)), Failed("old", TimeSpan.FromDays(6) + TimeSpan.FromHours(20)) };

        var table = DeadLetterCommand.FormatTable(letters, now, retention: TimeSpan.FromDays(7));

        var lines = table.Split(System.Environment.NewLine);
        lines[0].Should().MatchRegex(@"FAILED\s+EXPIRES IN\s+LAST EXCEPTION");
        lines.Single(line => line.Contains("fresh", StringComparison.Ordinal)).Should().Contain("6d23h");
        lines.Single(line => line.Contains("old", StringComparison.Ordinal)).Should().Contain("4h00m");
    }
}
