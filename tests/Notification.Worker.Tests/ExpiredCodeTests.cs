using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Notification.Worker.Consumers;
using Notification.Worker.Tests.Support;

namespace Notification.Worker.Tests;

/// <summary>A code that expired before it could be emailed is never sent; the API is asked for a fresh one.</summary>
public sealed class ExpiredCodeTests(WorkerTestEnvironment environment) : IClassFixture<WorkerTestEnvironment>, IAsyncLifetime
{
    private static readonly DateTimeOffset Issued = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WorkerTestEnvironment _environment = environment;

    public Task InitializeAsync()
    {
        _environment.Provider.Reset();
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task LateMessage_IsNotEmailed_AndCodeExpiredBeforeDeliveryIsPublished()
    {
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Ok());
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await WorkerHost.StartAsync(_environment, clock: clock, collectExpiredEvents: true);
        var message = TestData.UserRegistered(Issued.AddMinutes(1));
        var messageId = Guid.NewGuid();
        clock.Advance(TimeSpan.FromMinutes(1)); // exactly at expiry: already dead

        await worker.PublishAsync(message, messageId);

        var received = await Eventually.GetAsync(() => worker.ExpiredEvents.Received.ToList(), e => e.Count > 0, "the expired-code event");
        var (eventId, expired) = received.Should().ContainSingle().Subject;
        expired.UserId.Should().Be(message.UserId);
        expired.Email.Should().Be(message.Email);
        expired.CodeExpiresAt.Should().Be(message.CodeExpiresAt);
        expired.OccurredAt.Should().Be(clock.GetUtcNow());
        eventId.Should().Be(ActivationEmailConsumer.ExpiredEventId(messageId));
        (await WorkerHost.ProcessedOutcomeAsync(_environment, messageId)).Should().Be("expired");
        _environment.Provider.RequestsFor(messageId).Should().BeEmpty();
    }

    [Fact]
    public async Task CodeExpiringBeforeAMessageRetry_IsNotEmailedByTheRetry()
    {
        _environment.Provider.RespondInSequence(ProviderStub.MailjetPath, ProviderStub.Status(503), ProviderStub.Ok());
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await WorkerHost.StartAsync(
            _environment,
            new Dictionary<string, string?>
            {
                ["Email:Resilience:MaxRetryAttempts"] = "0",
                ["Consumer:MessageRetryLimit"] = "1",
                ["Consumer:MessageRetryInitialInterval"] = "00:00:01",
            },
            clock,
            collectExpiredEvents: true);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestData.UserRegistered(Issued.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => _environment.Provider.RequestsFor(messageId).Count, n => n == 1, "the failed first attempt");
        clock.Advance(TimeSpan.FromMinutes(2)); // the provider outage outlasted the code

        await Eventually.GetAsync(() => worker.ExpiredEvents.Received.Count, n => n == 1, "the expired-code event");
        (await WorkerHost.ProcessedOutcomeAsync(_environment, messageId)).Should().Be("expired");
        _environment.Provider.RequestsFor(messageId).Should().ContainSingle("the retry found the code dead and did not send it");
    }

    [Fact]
    public async Task HttpRetries_StopWhenTheCodeExpires()
    {
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Status(503));
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await WorkerHost.StartAsync(
            _environment,
            new Dictionary<string, string?>
            {
                ["Email:Resilience:MaxRetryAttempts"] = "10",
                ["Email:Resilience:RetryBaseDelay"] = "00:00:00.500",
                ["Email:Resilience:RetryMaxDelay"] = "00:00:00.500",
                ["Email:Resilience:TotalTimeout"] = "00:00:30",
            },
            clock,
            collectExpiredEvents: true);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestData.UserRegistered(Issued.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => _environment.Provider.RequestsFor(messageId).Count, n => n >= 1, "a first attempt");
        clock.Advance(TimeSpan.FromMinutes(1));

        await Eventually.GetAsync(() => worker.ExpiredEvents.Received.Count, n => n == 1, "the expired-code event", TimeSpan.FromSeconds(5));
        var attempts = _environment.Provider.RequestsFor(messageId).Count;
        attempts.Should().BeLessThan(11, "the remaining HTTP retries were abandoned");
        (await WorkerHost.ProcessedOutcomeAsync(_environment, messageId)).Should().Be("expired");
    }
}
