using Microsoft.Extensions.Time.Testing;
using Notification.Worker.Consumers;
using Registration.Contracts.V1;

namespace Notification.Worker.Tests;

/// <summary>A code that expired before it could be emailed is never sent; the API is asked for a fresh one.</summary>
public sealed class ExpiredCodeTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    private static readonly DateTimeOffset Issued = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(nameof(UserRegistered))]
    [InlineData(nameof(EmailChangeRequested))]
    public async Task LateCode_IsNotEmailed_AndAFreshOneIsAskedFor_ForTheAddressItWasFor(string kind)
    {
        var clock = new FakeTimeProvider(Issued);
        await using var worker = await Environment.StartWorkerAsync(clock: clock, collectExpiredEvents: true);
        var messageId = Guid.NewGuid();
        // (user, address the code was for, when it expires): the new address of an email change.
        (Guid UserId, string Address, DateTimeOffset ExpiresAt) sent;
        if (kind == nameof(UserRegistered))
        {
            var registered = TestMessages.UserRegistered(Issued.AddMinutes(1));
            sent = (registered.UserId, registered.Email, registered.CodeExpiresAt);
            clock.Advance(TimeSpan.FromMinutes(1)); // exactly at expiry: already dead
            await worker.PublishAsync(registered, messageId);
        }
        else
        {
            var change = TestMessages.EmailChangeRequested(Issued.AddMinutes(1));
            sent = (change.UserId, change.NewEmail, change.CodeExpiresAt);
            clock.Advance(TimeSpan.FromMinutes(1));
            await worker.PublishAsync(change, messageId);
        }

        var received = await Eventually.GetAsync(() => worker.ExpiredEvents.Received.ToList(), e => e.Count > 0, "the expired-code event");
        var (eventId, expired) = received.Should().ContainSingle().Subject;
        expired.UserId.Should().Be(sent.UserId);
        expired.Email.Should().Be(sent.Address, "the API reissues the code to the address it was for");
        expired.CodeExpiresAt.Should().Be(sent.ExpiresAt);
        expired.OccurredAt.Should().Be(clock.GetUtcNow());
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

        (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle().Which.To.Should().Be(message.OldEmail);
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
