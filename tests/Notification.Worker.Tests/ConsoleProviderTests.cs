using Notification.Worker.Email.Templates;

namespace Notification.Worker.Tests;

/// <summary>The development provider: nothing leaves the process, the worker's log shows what would have been sent.</summary>
public sealed class ConsoleProviderTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task EveryKindOfEmail_IsLogged_WithItsSubjectAndRecipient_TheCodeOnlyWhereThereIsOne()
    {
        await using var worker = await Environment.StartWorkerAsync(settings => settings.Set("Email:Provider", "Console"));
        var registered = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1), code: "0427");
        var change = TestMessages.EmailChangeRequested(DateTimeOffset.UtcNow.AddMinutes(1), code: "0815");
        var changed = TestMessages.EmailChanged(DateTimeOffset.UtcNow);
        var ids = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };

        await worker.PublishAsync(registered, ids[0]);
        await worker.PublishAsync(change, ids[1]);
        await worker.PublishAsync(changed, ids[2]);

        foreach (var id in ids)
        {
            await Environment.Database.WaitForOutcomeAsync(id, "sent");
        }

        var lines = worker.Logs.Lines.Where(line => line.Message.StartsWith("[DEVELOPMENT EMAIL PROVIDER", StringComparison.Ordinal)).ToList();
        lines.Should().HaveCount(3);
        lines.Should().ContainSingle(line => line.Message.Contains($"\"{ActivationCodeTemplate.Subject}\" to {registered.Email}: code 0427"));
        lines.Should().ContainSingle(line => line.Message.Contains($"\"{EmailChangeCodeTemplate.Subject}\" to {change.NewEmail}: code 0815"));
        lines.Should().ContainSingle(line => line.Message.Contains($"\"{EmailChangedNoticeTemplate.Subject}\" to {changed.OldEmail}: a notice, no code"));
        Environment.Provider.Requests.Should().BeEmpty("the Console provider sends nothing");
    }
}
