using Microsoft.Extensions.Time.Testing;

namespace Notification.Worker.Tests;

/// <summary>
/// A provider that answers 429 or 503 with a Retry-After longer than the HTTP retries wait (the tests' cap:
/// 2 s): the message is not knocked again at the cap, it comes back no sooner than asked.
/// </summary>
public sealed class ProviderThrottlingTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    private static readonly TimeSpan AskedToWait = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task RetryAfterBeyondTheCap_EndsTheHttpAttempts_AndTheMessageComesBackNoSoonerThanAsked(int status)
    {
        Environment.Provider.AnswerInSequence(ProviderAnswer.Fail(status, retryAfter: AskedToWait), ProviderAnswer.Ok());
        await using var worker = await Environment.StartWorkerAsync(settings => settings.Retries(http: 3, message: 4));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(Environment.Clock.GetUtcNow().AddHours(1)), messageId);

        var requests = await Environment.SentRequestsAsync(messageId);
        requests.Select(request => request.Status).Should().Equal([status, 200], "no HTTP retry after an answer that asked for more than the cap");
        (requests[1].ReceivedAt - requests[0].ReceivedAt).Should().BeGreaterThanOrEqualTo(AskedToWait, "no sooner than the provider asked");
        worker.Logs.Lines.Should().ContainSingle(line => line.EventName == "Deferred");
        worker.Events.Faulted(messageId).Should().Be(0, "a wait the provider asked for is not a failure");
    }

    [Fact]
    public async Task AMessageMadeToWaitTwice_ComesBackBothTimes_ThroughTheSameWaitQueues()
    {
        // Each wait of three seconds hops through the 2 s and the 1 s wait queues: the second wait goes the same way.
        Environment.Provider.AnswerInSequence(
            ProviderAnswer.Fail(429, retryAfter: AskedToWait), ProviderAnswer.Fail(429, retryAfter: AskedToWait), ProviderAnswer.Ok());
        await using var worker = await Environment.StartWorkerAsync(settings => settings.Retries(http: 3, message: 4));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(Environment.Clock.GetUtcNow().AddHours(1)), messageId);

        var requests = await Environment.SentRequestsAsync(messageId);
        requests.Select(request => request.Status).Should().Equal(429, 429, 200);
        (requests[2].ReceivedAt - requests[1].ReceivedAt).Should().BeGreaterThanOrEqualTo(AskedToWait);
    }

    [Fact]
    public async Task RetryAfterThatOutlivesTheCode_GoesTheExpiryPath_AtOnce()
    {
        Environment.Provider.FailWith(429, retryAfter: TimeSpan.FromSeconds(60));
        var clock = new FakeTimeProvider(Environment.Clock.GetUtcNow());
        await using var worker = await Environment.StartWorkerAsync(settings => settings.Retries(http: 3, message: 4), clock, collectExpiredEvents: true);
        var message = TestMessages.EmailChangeRequested(clock.GetUtcNow().AddSeconds(30));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        await Environment.Database.WaitForOutcomeAsync(messageId, "expired");
        var (_, expired) = worker.ExpiredEvents.Received.Should().ContainSingle().Subject;
        expired.Email.Should().Be(message.NewEmail);
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle("the code would be dead before the provider takes it again");
    }

    [Fact]
    public async Task AProviderThatKeepsAskingToWait_SendsTheMessageToTheErrorQueue_AfterTheMessageRetryLimit()
    {
        Environment.Provider.FailWith(429, retryAfter: AskedToWait, body: """{"ErrorMessage":"Too many requests for someone@example.com"}""");
        await using var worker = await Environment.StartWorkerAsync(settings => settings.Retries(http: 3, message: 1));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.EmailChanged(Environment.Clock.GetUtcNow()), messageId);

        var letter = (await Eventually.GetAsync(
            () => Broker.PeekAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue),
            letters => letters.Count == 1,
            "the message in the error queue")).Single();
        letter.MessageId.Should().Be(messageId.ToString());
        letter.ExceptionType.Should().EndWith("ProviderThrottledException");
        letter.ExceptionMessage.Should().Contain("429").And.Contain("Retry-After 3 s").And.NotContain("someone@example.com");
        var requests = Environment.Provider.RequestsFor(messageId);
        requests.Should().HaveCount(2, "the first attempt and the one redelivery the message retry limit allows");
        (requests[1].ReceivedAt - requests[0].ReceivedAt).Should().BeGreaterThanOrEqualTo(AskedToWait);
        (await Environment.Database.GetProcessedOutcomeAsync(messageId)).Should().BeNull("a message that was not sent leaves no claim behind");
    }
}
