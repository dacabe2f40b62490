using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Notification.Worker.Email;
using Notification.Worker.Tests.Support;
using WireMock.ResponseBuilders;

namespace Notification.Worker.Tests;

/// <summary>The Mailjet client, its resilience pipeline and the consumer, against Mailjet faked by WireMock.</summary>
public sealed class MailjetProviderTests(WorkerTestEnvironment environment) : IClassFixture<WorkerTestEnvironment>, IAsyncLifetime
{
    private readonly WorkerTestEnvironment _environment = environment;

    public Task InitializeAsync()
    {
        _environment.Provider.Reset();
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Send_PostsV31MessageWithBasicAuth_AndTheMessageIdAsCustomId()
    {
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Ok());
        await using var worker = await WorkerHost.StartAsync(_environment);
        var expiresAt = new DateTimeOffset(2099, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var message = TestData.UserRegistered(expiresAt, code: "0427");
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the send to be recorded");
        var request = _environment.Provider.RequestsFor(messageId).Should().ContainSingle().Subject;
        request.RequestMessage.Method.Should().Be("POST");
        request.RequestMessage.Path.Should().Be("/v3.1/send");
        request.Header("Authorization").Should().Be(TestData.BasicAuthorization(TestData.ApiKey, TestData.ApiSecret));

        var sent = request.Json().GetProperty("Messages").EnumerateArray().Should().ContainSingle().Subject;
        sent.GetProperty("From").GetProperty("Email").GetString().Should().Be("no-reply@example.test");
        sent.GetProperty("From").GetProperty("Name").GetString().Should().Be("Registration");
        sent.GetProperty("To").EnumerateArray().Should().ContainSingle()
            .Which.GetProperty("Email").GetString().Should().Be(message.Email);
        sent.GetProperty("Subject").GetString().Should().NotBeNullOrWhiteSpace();
        sent.GetProperty("TextPart").GetString().Should().Contain("0427").And.Contain("one minute").And.Contain("2099-01-02 03:04:05 UTC");
        sent.GetProperty("HTMLPart").GetString().Should().Contain("<strong>0427</strong>").And.Contain("2099-01-02 03:04:05 UTC");
        sent.GetProperty("CustomID").GetString().Should().Be(messageId.ToString());
    }

    [Fact]
    public async Task Send_IsRetried_AfterA500()
    {
        _environment.Provider.RespondInSequence(ProviderStub.MailjetPath, ProviderStub.Status(500), ProviderStub.Ok());
        await using var worker = await WorkerHost.StartAsync(_environment);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the send to be recorded");
        _environment.Provider.RequestsFor(messageId).Select(r => r.ResponseMessage.StatusCode).Should().Equal(500, 200);
    }

    [Fact]
    public async Task Send_WaitsForRetryAfter_AfterA429()
    {
        _environment.Provider.RespondInSequence(
            ProviderStub.MailjetPath,
            ProviderStub.Status(429).WithHeader("Retry-After", "1"),
            ProviderStub.Ok());
        await using var worker = await WorkerHost.StartAsync(_environment);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the send to be recorded");
        var requests = _environment.Provider.RequestsFor(messageId);
        requests.Select(r => r.ResponseMessage.StatusCode).Should().Equal(429, 200);
        // The backoff of the tests is 10 ms: a gap of about a second is the provider's Retry-After.
        (requests[1].RequestMessage.DateTime - requests[0].RequestMessage.DateTime)
            .Should().BeGreaterThan(TimeSpan.FromMilliseconds(900));
    }

    [Fact]
    public async Task Send_IsRetried_AfterAnAttemptTimesOut()
    {
        _environment.Provider.RespondInSequence(
            ProviderStub.MailjetPath,
            ProviderStub.Ok().WithDelay(TimeSpan.FromSeconds(3)),
            ProviderStub.Ok());
        await using var worker = await WorkerHost.StartAsync(
            _environment, new Dictionary<string, string?> { ["Email:Resilience:AttemptTimeout"] = "00:00:00.300" });
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the send to be recorded");
        worker.Probe.Faulted(messageId).Should().Be(0, "the HTTP retry, not a message retry, recovered from the timeout");
        await Eventually.GetAsync(() => _environment.Provider.RequestsFor(messageId).Count, n => n >= 2, "both attempts to be logged");
    }

    [Fact]
    public async Task Send_400_IsNotRetried_AndTheMessageIsDeadLetteredWithTheProviderReason()
    {
        _environment.Provider.RespondAlways(
            ProviderStub.MailjetPath,
            ProviderStub.Status(400, """{"ErrorIdentifier":"x","StatusCode":400,"ErrorMessage":"Sender not validated"}"""));
        await using var worker = await WorkerHost.StartAsync(_environment);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        var letter = await DeadLetterAsync(messageId);
        letter.ExceptionType.Should().EndWith("PermanentEmailFailureException");
        letter.ExceptionMessage.Should().Contain("400").And.Contain("Sender not validated");
        _environment.Provider.RequestsFor(messageId).Should().ContainSingle("a 400 is neither retried over HTTP nor as a message");
        worker.Probe.Faulted(messageId).Should().Be(1);
        (await WorkerHost.ProcessedOutcomeAsync(_environment, messageId)).Should().BeNull();
    }

    [Fact]
    public async Task Send_200WithAPerMessageError_IsAPermanentFailure_WithoutTheAddressInTheReason()
    {
        var message = TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        _environment.Provider.RespondAlways(
            ProviderStub.MailjetPath,
            ProviderStub.Ok($$"""{"Messages":[{"Status":"error","Errors":[{"ErrorCode":"mj-0013","StatusCode":400,"ErrorMessage":"\"{{message.Email}}\" is an invalid email address."}]}]}"""));
        await using var worker = await WorkerHost.StartAsync(_environment);
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        var letter = await DeadLetterAsync(messageId);
        letter.ExceptionType.Should().EndWith("PermanentEmailFailureException");
        letter.ExceptionMessage.Should().Contain("mj-0013").And.Contain("invalid email address").And.NotContain(message.Email);
        _environment.Provider.RequestsFor(messageId).Should().ContainSingle();
        (await WorkerHost.ProcessedOutcomeAsync(_environment, messageId)).Should().BeNull();
    }

    [Fact]
    public async Task CircuitBreaker_Opens_AndStopsCallingTheFailingProvider()
    {
        _environment.Provider.RespondAlways(ProviderStub.MailjetPath, ProviderStub.Status(503));
        await using var worker = await WorkerHost.StartAsync(_environment, new Dictionary<string, string?>
        {
            ["Email:Resilience:MaxRetryAttempts"] = "1",
            ["Email:Resilience:BreakerMinimumThroughput"] = "2",
            ["Email:Resilience:BreakerFailureRatio"] = "0.5",
            ["Email:Resilience:BreakerBreakDuration"] = "00:00:30",
        });
        // The real sender, with its real pipeline, called directly.
        var sender = worker.Services.GetRequiredService<IActivationEmailSender>();
        var email = new ActivationEmail(Guid.NewGuid(), Guid.NewGuid(), "someone@example.test", "1234", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1));

        var first = await sender.SendAsync(email, CancellationToken.None);
        var second = await sender.SendAsync(email, CancellationToken.None);
        var third = await sender.SendAsync(email, CancellationToken.None);

        first.Outcome.Should().Be(EmailSendOutcome.TransientFailure);
        first.Reason.Should().Contain("503");
        second.Should().Be(third);
        second.Outcome.Should().Be(EmailSendOutcome.TransientFailure);
        second.Reason.Should().Contain("circuit is open");
        _environment.Provider.RequestsFor(email.MessageId!.Value).Should().HaveCount(2, "the two attempts of the first send opened the circuit");
    }

    private async Task<Worker.DeadLetters.DeadLetter> DeadLetterAsync(Guid messageId)
    {
        var letters = await Eventually.GetAsync(
            () => Broker.PeekAsync(_environment, Broker.ErrorQueue),
            found => found.Any(l => l.MessageId == messageId.ToString()),
            $"message {messageId} in {Broker.ErrorQueue}");
        return letters.Single(l => l.MessageId == messageId.ToString());
    }
}
