namespace Notification.Worker.Tests;

/// <summary>At-least-once delivery without a second email.</summary>
public sealed class RedeliveryTests(TestEnvironment environment) : IClassFixture<TestEnvironment>, IAsyncLifetime
{
    public Task InitializeAsync()
    {
        environment.Provider.Reset();
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task RedeliveredMessageId_SendsNothing()
    {
        await using var worker = await environment.StartWorkerAsync();
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(message, messageId);
        await environment.Database.WaitForOutcomeAsync(messageId, "sent");

        await worker.PublishAsync(message, messageId);

        await Eventually.GetAsync(() => worker.Events.Completed(messageId), n => n == 2, "the redelivery to be consumed");
        environment.Provider.RequestsFor(messageId).Should().ContainSingle();
    }

    [Fact]
    public async Task RedeliveryToAnotherWorker_SendsNothing()
    {
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        var messageId = Guid.NewGuid();
        await using (var first = await environment.StartWorkerAsync())
        {
            await first.PublishAsync(message, messageId);
            await environment.Database.WaitForOutcomeAsync(messageId, "sent");
        }

        await using var second = await environment.StartWorkerAsync();
        await second.PublishAsync(message, messageId);

        await Eventually.GetAsync(() => second.Events.Completed(messageId), n => n == 1, "the redelivery to be consumed");
        environment.Provider.RequestsFor(messageId).Should().ContainSingle();
    }

    [Fact]
    public async Task MessageWithoutMessageId_IsSentAnyway()
    {
        await using var worker = await environment.StartWorkerAsync();
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));

        await Broker.PublishWithoutMessageIdAsync(environment.VirtualHost, message);

        // No MessageId to use as the custom id: the provider sees "user-<id>" instead.
        var sent = await Eventually.GetAsync(() => environment.Provider.DeliveredTo(message.Email), r => r.Count > 0, "the send");
        sent.Should().ContainSingle().Which.MessageId.Should().Be($"user-{message.UserId}");
    }
}
