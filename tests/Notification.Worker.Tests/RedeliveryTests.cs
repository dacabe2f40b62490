namespace Notification.Worker.Tests;

/// <summary>At-least-once delivery without a second email.</summary>
public sealed class RedeliveryTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task RedeliveredMessageId_SendsNothing()
    {
        await using var worker = await Environment.StartWorkerAsync();
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(message, messageId);
        await Environment.Database.WaitForOutcomeAsync(messageId, "sent");

        await worker.PublishAsync(message, messageId);

        await Eventually.GetAsync(() => worker.Events.Completed(messageId), n => n == 2, "the redelivery to be consumed");
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle();
    }

    [Fact]
    public async Task RedeliveryToAnotherWorker_SendsNothing()
    {
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        var messageId = Guid.NewGuid();
        await using (var first = await Environment.StartWorkerAsync())
        {
            await first.PublishAsync(message, messageId);
            await Environment.Database.WaitForOutcomeAsync(messageId, "sent");
        }

        await using var second = await Environment.StartWorkerAsync();
        await second.PublishAsync(message, messageId);

        await Eventually.GetAsync(() => second.Events.Completed(messageId), n => n == 1, "the redelivery to be consumed");
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle();
    }

    [Fact]
    public async Task MessageWithoutMessageId_IsSentAnyway()
    {
        await using var worker = await Environment.StartWorkerAsync();
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));

        await Broker.PublishWithoutMessageIdAsync(Environment.VirtualHost, message);

        // No MessageId to use as the custom id: the provider sees "user-<id>" instead.
        var sent = await Eventually.GetAsync(() => Environment.Provider.DeliveredTo(message.Email), r => r.Count > 0, "the send");
        sent.Should().ContainSingle().Which.MessageId.Should().Be($"user-{message.UserId}");
    }
}
