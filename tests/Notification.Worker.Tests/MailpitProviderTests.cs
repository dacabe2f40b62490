using Notification.Worker.Email.Templates;
using Registration.Testing.Client;

namespace Notification.Worker.Tests;

/// <summary>The Mailpit client (development), against the fake provider speaking Mailpit.</summary>
public sealed class MailpitProviderTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task Send_PostsTheMessage_WithTagsCarryingTheMessageId_AndNoAuthByDefault()
    {
        await using var worker = await Environment.StartWorkerAsync(settings => settings
            .EmailProvider(Environment.Provider, EmailApi.Mailpit)
            .Set("Email:ApiKey", null)
            .Set("Email:ApiSecret", null));
        var expiresAt = new DateTimeOffset(2099, 5, 6, 7, 8, 9, TimeSpan.Zero);
        var message = TestMessages.UserRegistered(expiresAt, code: "0042");
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        var request = (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle().Subject;
        request.Path.Should().Be(FakeEmailProvider.MailpitPath);
        request.Header("Authorization").Should().BeNull();
        var body = request.Json();
        body.GetProperty("From").GetProperty("Email").GetString().Should().Be("no-reply@example.test");
        body.GetProperty("To").EnumerateArray().Should().ContainSingle()
            .Which.GetProperty("Email").GetString().Should().Be(message.Email);
        body.GetProperty("Subject").GetString().Should().NotBeNullOrWhiteSpace();
        body.GetProperty("Text").GetString().Should().Contain("0042").And.Contain("2099-05-06 07:08:09 UTC");
        body.GetProperty("HTML").GetString().Should().Contain("<strong>0042</strong>");
        body.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("activation", messageId.ToString());
    }

    [Fact]
    public async Task EmailChangeRequested_AndEmailChanged_ArePosted_TaggedWithWhatTheyAreFor()
    {
        await using var worker = await Environment.StartWorkerAsync(settings => settings.EmailProvider(Environment.Provider, EmailApi.Mailpit));
        var change = TestMessages.EmailChangeRequested(new DateTimeOffset(2099, 5, 6, 7, 8, 9, TimeSpan.Zero), code: "0815");
        var changed = TestMessages.EmailChanged(new DateTimeOffset(2099, 5, 6, 7, 9, 0, TimeSpan.Zero));
        var (changeId, changedId) = (Guid.NewGuid(), Guid.NewGuid());

        await worker.PublishAsync(change, changeId);
        await worker.PublishAsync(changed, changedId);

        var code = (await Environment.SentRequestsAsync(changeId)).Should().ContainSingle().Subject;
        code.Path.Should().Be(FakeEmailProvider.MailpitPath);
        code.To.Should().Be(change.NewEmail);
        code.Json().GetProperty("Subject").GetString().Should().Be(EmailChangeCodeTemplate.Subject);
        code.Json().GetProperty("Text").GetString().Should().Contain("Your confirmation code is 0815").And.Contain("2099-05-06 07:08:09 UTC");
        code.Json().GetProperty("Tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("email-change", changeId.ToString());

        var notice = (await Environment.SentRequestsAsync(changedId)).Should().ContainSingle().Subject;
        notice.To.Should().Be(changed.OldEmail);
        notice.Code.Should().BeNull();
        notice.Json().GetProperty("Subject").GetString().Should().Be(EmailChangedNoticeTemplate.Subject);
        notice.Json().GetProperty("Text").GetString().Should().Contain("changed to n***@e***.org");
        notice.Json().GetProperty("HTML").GetString().Should().Contain("<strong>n***@e***.org</strong>");
        notice.Json().GetProperty("Tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("email-changed", changedId.ToString());
    }

    [Fact]
    public async Task Send_UsesBasicAuth_WhenCredentialsAreConfigured()
    {
        await using var worker = await Environment.StartWorkerAsync(settings => settings
            .EmailProvider(Environment.Provider, EmailApi.Mailpit)
            .Set("Email:ApiKey", "mailpit-user")
            .Set("Email:ApiSecret", "mailpit-password"));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        (await Environment.SentRequestsAsync(messageId)).Should().ContainSingle()
            .Which.Header("Authorization").Should().Be(BasicAuth.Header("mailpit-user", "mailpit-password").ToString());
    }
}
