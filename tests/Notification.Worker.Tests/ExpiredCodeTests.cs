using Microsoft.Extensions.Time.Testing;
using Notification.Worker.Consumers;

namespace Notification.Worker.Tests;

/// <summary>A code that expired before it could be emailed is never sent; the API is asked for a fresh one.</summary>
public sealed class ExpiredCodeTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    private static readonly DateTimeOffset Issued = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task LateMessage_IsNotEmailed_AndCodeExpiredBeforeDeliveryIsPublished()
    {
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await Environment.StartWorkerAsync(clock: clock, collectExpiredEvents: true);
        var message = TestMessages.UserRegistered(Issued.AddMinutes(1));
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
        await Environment.Database.WaitForOutcomeAsync(messageId, "expired"); // recorded just after the event is published
        Environment.Provider.RequestsFor(messageId).Should().BeEmpty();
    }

    [Fact]
    public async Task LateEmailChangeCode_IsNotEmailed_AndAFreshCodeIsAskedForTheNewAddress()
    {
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await Environment.StartWorkerAsync(clock: clock, collectExpiredEvents: true);
        var message = TestMessages.EmailChangeRequested(Issued.AddMinutes(1));
        var messageId = Guid.NewGuid();
        clock.Advance(TimeSpan.FromMinutes(2));

        await worker.PublishAsync(message, messageId);

        var received = await Eventually.GetAsync(() => worker.ExpiredEvents.Received.ToList(), e => e.Count > 0, "the expired-code event");
        var (eventId, expired) = received.Should().ContainSingle().Subject;
        expired.UserId.Should().Be(message.UserId);
        expired.Email.Should().Be(message.NewEmail, "the API reissues the change code to the address being confirmed");
        expired.CodeExpiresAt.Should().Be(message.CodeExpiresAt);
        eventId.Should().Be(ActivationEmailConsumer.ExpiredEventId(messageId));
        await Environment.Database.WaitForOutcomeAsync(messageId, "expired"); // recorded just after the event is published
        Environment.Provider.RequestsFor(messageId).Should().BeEmpty();
    }

    [Fact]
    public async Task EmailChangedNotice_HasNoCodeToExpire_AndIsSentHoweverLate()
    {
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await Environment.StartWorkerAsync(clock: clock, collectExpiredEvents: true);
        var message = TestMessages.EmailChanged(Issued);
        var messageId = Guid.NewGuid();
        clock.Advance(TimeSpan.FromDays(1));

        await worker.PublishAsync(message, messageId);

        await Environment.Database.WaitForOutcomeAsync(messageId, "sent");
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle().Which.To.Should().Be(message.OldEmail);
        worker.ExpiredEvents.Received.Should().BeEmpty();
    }

    [Fact]
    public async Task CodeExpiringBeforeAMessageRetry_IsNotEmailedByTheRetry()
    {
        Environment.Provider.AnswerInSequence(ProviderAnswer.Fail(503), ProviderAnswer.Ok());
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await Environment.StartWorkerAsync(
            settings => settings.Retries(http: 0, message: 1).Set("Consumer:MessageRetryInitialInterval", TimeSpan.FromSeconds(1)),
            clock,
            collectExpiredEvents: true);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(Issued.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => Environment.Provider.RequestsFor(messageId).Count, n => n == 1, "the failed first attempt");
        clock.Advance(TimeSpan.FromMinutes(2)); // the provider outage outlasted the code

        await Eventually.GetAsync(() => worker.ExpiredEvents.Received.Count, n => n == 1, "the expired-code event");
        await Environment.Database.WaitForOutcomeAsync(messageId, "expired"); // recorded just after the event is published
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle("the retry found the code dead and did not send it");
    }

    [Fact]
    public async Task HttpRetries_StopWhenTheCodeExpires()
    {
        Environment.Provider.FailWith(503);
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await Environment.StartWorkerAsync(
            settings => settings
                .Set("Email:Resilience:MaxRetryAttempts", 10)
                .Set("Email:Resilience:RetryBaseDelay", TimeSpan.FromMilliseconds(500))
                .Set("Email:Resilience:RetryMaxDelay", TimeSpan.FromMilliseconds(500))
                .Set("Email:Resilience:TotalTimeout", TimeSpan.FromSeconds(30)),
            clock,
            collectExpiredEvents: true);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(Issued.AddMinutes(1)), messageId);
        await Eventually.GetAsync(() => Environment.Provider.RequestsFor(messageId).Count, n => n >= 1, "a first attempt");
        clock.Advance(TimeSpan.FromMinutes(1));

        await Eventually.GetAsync(() => worker.ExpiredEvents.Received.Count, n => n == 1, "the expired-code event", TimeSpan.FromSeconds(5));
        var attempts = Environment.Provider.RequestsFor(messageId).Count;
        attempts.Should().BeLessThan(11, "the remaining HTTP retries were abandoned");
        await Environment.Database.WaitForOutcomeAsync(messageId, "expired"); // recorded just after the event is published
    }
}
