using FluentAssertions;
using Notification.Worker.Tests.Support;

namespace Notification.Worker.Tests;

/// <summary>At-least-once delivery without a second email.</summary>
public sealed class RedeliveryTests(WorkerTestEnvironment environment) : IClassFixture<WorkerTestEnvironment>, IAsyncLifetime
{
    private readonly WorkerTestEnvironment _environment = environment;

    public Task InitializeAsync()
    {
        _environment.Provider.Reset();
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Ok());
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task RedeliveredMessageId_SendsNothing()
    {
        await using var worker = await WorkerHost.StartAsync(_environment);
        var message = TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        var messageId = Guid.NewGuid();
        await worker.PublishAsync(message, messageId);
        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the first delivery to be sent");

        await worker.PublishAsync(message, messageId);

        await Eventually.GetAsync(() => worker.Probe.Completed(messageId), n => n == 2, "the redelivery to be consumed");
        _environment.Provider.RequestsFor(messageId).Should().ContainSingle();
    }

    [Fact]
    public async Task RedeliveryToAnotherWorker_SendsNothing()
    {
        var message = TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        var messageId = Guid.NewGuid();
        await using (var first = await WorkerHost.StartAsync(_environment))
        {
            await first.PublishAsync(message, messageId);
            await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the first delivery to be sent");
        }

        await using var second = await WorkerHost.StartAsync(_environment);
        await second.PublishAsync(message, messageId);

        await Eventually.GetAsync(() => second.Probe.Completed(messageId), n => n == 1, "the redelivery to be consumed");
        _environment.Provider.RequestsFor(messageId).Should().ContainSingle();
    }

    [Fact]
    public async Task MessageWithoutMessageId_IsSentAnyway()
    {
        await using var worker = await WorkerHost.StartAsync(_environment);
        var message = TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));

        await Broker.PublishWithoutMessageIdAsync(_environment, message);

        // No MessageId to use as the custom id: the provider sees "user-<id>" instead.
        var requests = await Eventually.GetAsync(() => _environment.Provider.RequestsFor(message.UserId), r => r.Count > 0, "the send");
        requests.Should().ContainSingle().Which.Json().GetProperty("Messages")[0].GetProperty("CustomID").GetString()
            .Should().Be($"user-{message.UserId}");
    }
}
