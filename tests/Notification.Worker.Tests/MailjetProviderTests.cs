using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Notification.Worker.Email;
using Notification.Worker.Email.Templates;
using Registration.Testing.Client;

namespace Notification.Worker.Tests;

/// <summary>The Mailjet client, its resilience pipeline and the consumer, against the fake provider speaking Mailjet.</summary>
public sealed class MailjetProviderTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task Send_PostsV31MessageWithBasicAuth_AndTheMessageIdAsCustomId()
    {
        await using var worker = await Environment.StartWorkerAsync();
        var expiresAt = new DateTimeOffset(2099, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var message = TestMessages.UserRegistered(expiresAt, code: "0427");
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        var request = (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle().Subject;
        request.Path.Should().Be(FakeEmailProvider.MailjetPath);
        request.Header("Authorization").Should().Be(BasicAuth.Header(TestSettings.EmailCredentials.Key, TestSettings.EmailCredentials.Secret).ToString());

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
    public async Task EmailChangeRequested_PostsTheConfirmationCodeToTheNewAddress()
    {
        await using var worker = await Environment.StartWorkerAsync();
        var message = TestMessages.EmailChangeRequested(new DateTimeOffset(2099, 1, 2, 3, 4, 5, TimeSpan.Zero), code: "0815");
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        var request = (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle().Subject;
        request.Path.Should().Be(FakeEmailProvider.MailjetPath);
        request.To.Should().Be(message.NewEmail);
        request.Code.Should().Be("0815");
        var sent = request.Json().GetProperty("Messages").EnumerateArray().Should().ContainSingle().Subject;
        sent.GetProperty("Subject").GetString().Should().Be(EmailChangeCodeTemplate.Subject);
        sent.GetProperty("TextPart").GetString().Should().Contain("Your confirmation code is 0815")
            .And.Contain("one minute").And.Contain("2099-01-02 03:04:05 UTC");
        sent.GetProperty("HTMLPart").GetString().Should().Contain("<strong>0815</strong>");
        sent.GetProperty("CustomID").GetString().Should().Be(messageId.ToString());
    }

    [Fact]
    public async Task EmailChanged_PostsTheNoticeToTheOldAddress_WithTheNewOneMasked_AndNoCode()
    {
        await using var worker = await Environment.StartWorkerAsync();
        var message = TestMessages.EmailChanged(new DateTimeOffset(2099, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        var request = (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle().Subject;
        request.To.Should().Be(message.OldEmail);
        request.Code.Should().BeNull();
        var sent = request.Json().GetProperty("Messages").EnumerateArray().Should().ContainSingle().Subject;
        sent.GetProperty("Subject").GetString().Should().Be(EmailChangedNoticeTemplate.Subject);
        sent.GetProperty("TextPart").GetString().Should().Contain("changed to n***@e***.org at 2099-01-02 03:04:05 UTC");
        request.Body.Should().NotContain(message.NewEmail, "the notice shows the new address masked only");
        sent.GetProperty("CustomID").GetString().Should().Be(messageId.ToString());
    }

    [Theory]
    [InlineData(EmailApi.Mailjet)]
    [InlineData(EmailApi.Mailpit)]
    public async Task Send_CarriesContentLength_NeverAChunkedBody(EmailApi api)
    {
        // Some HTTP servers and gateways refuse a request body of unknown length.
        await using var worker = await Environment.StartWorkerAsync(settings => settings.EmailProvider(Environment.Provider, api));
        var ids = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };

        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), ids[0]);
        await worker.PublishAsync(TestMessages.EmailChangeRequested(DateTimeOffset.UtcNow.AddMinutes(1)), ids[1]);
        await worker.PublishAsync(TestMessages.EmailChanged(DateTimeOffset.UtcNow), ids[2]);

        foreach (var id in ids)
        {
            var request = (await Environment.SentRequestsAsync(id)).Should().ContainSingle().Subject;
            request.Header("Transfer-Encoding").Should().BeNull("the body is not chunked");
            request.Header("Content-Length").Should().Be(Encoding.UTF8.GetByteCount(request.Body).ToString(CultureInfo.InvariantCulture));
            request.Header("Content-Type").Should().StartWith("application/json");
        }
    }

    [Fact]
    public async Task Send_IsRetried_AfterA500()
    {
        Environment.Provider.AnswerInSequence(ProviderAnswer.Fail(500), ProviderAnswer.Ok());
        await using var worker = await Environment.StartWorkerAsync();
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        (await Environment.SentRequestsAsync(messageId)).Select(r => r.Status).Should().Equal(500, 200);
    }

    [Fact]
    public async Task Send_WaitsForRetryAfter_AfterA429()
    {
        Environment.Provider.AnswerInSequence(ProviderAnswer.Fail(429, retryAfter: TimeSpan.FromSeconds(1)), ProviderAnswer.Ok());
        await using var worker = await Environment.StartWorkerAsync();
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        var requests = await Environment.SentRequestsAsync(messageId);
        requests.Select(r => r.Status).Should().Equal(429, 200);
        // The backoff of the tests is 10 ms: a gap of about a second is the provider's Retry-After.
        (requests[1].ReceivedAt - requests[0].ReceivedAt).Should().BeGreaterThan(TimeSpan.FromMilliseconds(900));
    }

    [Fact]
    public async Task Send_IsRetried_AfterAnAttemptTimesOut()
    {
        Environment.Provider.AnswerInSequence(ProviderAnswer.Ok(delay: TimeSpan.FromSeconds(3)), ProviderAnswer.Ok());
        await using var worker = await Environment.StartWorkerAsync(settings => settings.ProviderTimeouts(
            attempt: TimeSpan.FromMilliseconds(300), total: TimeSpan.FromSeconds(10)));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        await Environment.Database.WaitForOutcomeAsync(messageId, "sent");
        worker.Events.Faulted(messageId).Should().Be(0, "the HTTP retry, not a message retry, recovered from the timeout");
        // Recorded on arrival: the abandoned attempt is there too, as a real provider may have sent it.
        Environment.Provider.RequestsFor(messageId).Should().HaveCountGreaterThanOrEqualTo(2);
    }

    [Fact]
    public async Task Send_400_IsNotRetried_AndTheMessageIsDeadLetteredWithTheProviderReason()
    {
        Environment.Provider.FailWith(400, body: """{"ErrorIdentifier":"x","StatusCode":400,"ErrorMessage":"Sender not validated"}""");
        await using var worker = await Environment.StartWorkerAsync();
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        var letter = await DeadLetterAsync(messageId);
        letter.ExceptionType.Should().EndWith("PermanentEmailFailureException");
        letter.ExceptionMessage.Should().Contain("400").And.Contain("Sender not validated");
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle("a 400 is neither retried over HTTP nor as a message");
        worker.Events.Faulted(messageId).Should().Be(1);
        (await Environment.Database.GetProcessedOutcomeAsync(messageId)).Should().BeNull();
    }

    [Fact]
    public async Task Send_200WithAPerMessageError_IsAPermanentFailure_WithoutTheAddressInTheReason()
    {
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        Environment.Provider.Answer(ProviderAnswer.MailjetMessageError("mj-0013", $"\"{message.Email}\" is an invalid email address."));
        await using var worker = await Environment.StartWorkerAsync();
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        var letter = await DeadLetterAsync(messageId);
        letter.ExceptionType.Should().EndWith("PermanentEmailFailureException");
        letter.ExceptionMessage.Should().Contain("mj-0013").And.Contain("invalid email address").And.NotContain(message.Email);
        Environment.Provider.RequestsFor(messageId).Should().ContainSingle();
        (await Environment.Database.GetProcessedOutcomeAsync(messageId)).Should().BeNull();
    }

    [Fact]
    public async Task CircuitBreaker_Opens_AndStopsCallingTheFailingProvider()
    {
        Environment.Provider.FailWith(503);
        await using var worker = await Environment.StartWorkerAsync(settings => settings
            .Retries(http: 1, message: 4)
            .Breaker(minimumThroughput: 2, failureRatio: 0.5, breakDuration: TimeSpan.FromSeconds(30)));
        // The real sender, with its real pipeline, called directly.
        var sender = worker.Services.GetRequiredService<IEmailSender>();
        var email = ActivationCodeTemplate.Render(
            Guid.NewGuid(), Guid.NewGuid(), "someone@example.test", new EmailCode("1234", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1)));

        var first = await sender.SendAsync(email, CancellationToken.None);
        var second = await sender.SendAsync(email, CancellationToken.None);
        var third = await sender.SendAsync(email, CancellationToken.None);

        first.Outcome.Should().Be(EmailSendOutcome.TransientFailure);
        first.Reason.Should().Contain("503");
        second.Should().Be(third);
        second.Outcome.Should().Be(EmailSendOutcome.TransientFailure);
        second.Reason.Should().Contain("circuit is open");
        Environment.Provider.RequestsFor(email.MessageId!.Value).Should().HaveCount(2, "the two attempts of the first send opened the circuit");
    }

    private async Task<QueuedMessage> DeadLetterAsync(Guid messageId)
    {
        var letters = await Eventually.GetAsync(
            () => Broker.PeekAsync(Environment.VirtualHost, Broker.ActivationEmailErrorQueue),
            found => found.Any(letter => letter.MessageId == messageId.ToString()),
            $"message {messageId} in {Broker.ActivationEmailErrorQueue}");
        return letters.Single(letter => letter.MessageId == messageId.ToString());
    }
}
