using FluentAssertions;
using Notification.Worker.Tests.Support;

namespace Notification.Worker.Tests;

/// <summary>The Mailpit client (development), against Mailpit faked by WireMock.</summary>
public sealed class MailpitProviderTests(WorkerTestEnvironment environment) : IClassFixture<WorkerTestEnvironment>, IAsyncLifetime
{
    private readonly WorkerTestEnvironment _environment = environment;

    public Task InitializeAsync()
    {
        _environment.Provider.Reset();
        _environment.Provider.RespondAlways(ProviderStub.MailpitPath, ProviderStub.Ok("""{"ID":"iAfZVVe2UQfNSG5BAjgYwa"}"""));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Send_PostsTheMessage_WithTagsCarryingTheMessageId_AndNoAuthByDefault()
    {
        await using var worker = await WorkerHost.StartAsync(_environment, new Dictionary<string, string?>
        {
            ["Email:Provider"] = "Mailpit",
            ["Email:ApiKey"] = null,
            ["Email:ApiSecret"] = null,
        });
        var expiresAt = new DateTimeOffset(2099, 5, 6, 7, 8, 9, TimeSpan.Zero);
        var message = TestData.UserRegistered(expiresAt, code: "0042");
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);

        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the send to be recorded");
        var request = _environment.Provider.RequestsFor(messageId).Should().ContainSingle().Subject;
        request.RequestMessage.Path.Should().Be("/api/v1/send");
        request.Header("Authorization").Should().BeNull();
        var body = request.Json();
        body.GetProperty("From").GetProperty("Email").GetString().Should().Be("no-reply@example.test");
        body.GetProperty("To").EnumerateArray().Should().ContainSingle()
            .Which.GetProperty("Email").GetString().Should().Be(message.Email);
        body.GetProperty("Subject").GetString().Should().NotBeNullOrWhiteSpace();
        body.GetProperty("Text").GetString().Should().Contain("0042").And.Contain("2099-05-06 07:08:09 UTC");
        body.GetProperty("HTML").GetString().Should().Contain("<strong>0042</strong>");
        body.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()).Should().Contain(messageId.ToString());
    }

    [Fact]
    public async Task Send_UsesBasicAuth_WhenCredentialsAreConfigured()
    {
        await using var worker = await WorkerHost.StartAsync(_environment, new Dictionary<string, string?>
        {
            ["Email:Provider"] = "Mailpit",
            ["Email:ApiKey"] = "mailpit-user",
            ["Email:ApiSecret"] = "mailpit-password",
        });
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(TestData.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);

        await Eventually.GetAsync(() => WorkerHost.ProcessedOutcomeAsync(_environment, messageId), o => o == "sent", "the send to be recorded");
        _environment.Provider.RequestsFor(messageId).Should().ContainSingle()
            .Which.Header("Authorization").Should().Be(TestData.BasicAuthorization("mailpit-user", "mailpit-password"));
    }
}
