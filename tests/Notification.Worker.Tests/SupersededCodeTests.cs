using Registration.Contracts.V1;

namespace Notification.Worker.Tests;

/// <summary>
/// Codes arrive in any order (outbox batches publish concurrently to competing workers, failed rows wait):
/// the last email a user finds for an address never carries a code that a newer one replaced.
/// </summary>
public sealed class SupersededCodeTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WhicheverCodeArrivesFirst_TheLastEmailCarriesTheNewest(bool newerFirst)
    {
        await using var worker = await Environment.StartWorkerAsync();
        var older = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1), code: "1111");
        var newer = TestMessages.Reissued(older, DateTimeOffset.UtcNow.AddMinutes(2), code: "2222");
        var (olderId, newerId) = (Guid.NewGuid(), Guid.NewGuid());
        (object Message, Guid Id)[] arrivals = newerFirst ? [(newer, newerId), (older, olderId)] : [(older, olderId), (newer, newerId)];

        foreach (var (message, id) in arrivals)
        {
            await PublishAsync(worker, message, id);
            await Eventually.GetAsync(() => worker.Events.Completed(id), n => n == 1, $"message {id} handled");
        }

        var emails = Environment.Provider.DeliveredTo(older.Email);
        emails[^1].Code.Should().Be("2222", "the newest code is the last email, whatever the order of arrival");
        if (newerFirst)
        {
            emails.Should().ContainSingle("the older code arrived after the newer one was sent: it is not sent at all");
            (await Environment.Database.GetProcessedOutcomeAsync(olderId)).Should().Be("superseded");
            worker.Logs.Lines.Should().Contain(line => line.EventName == "Superseded");
        }
        else
        {
            emails.Select(email => email.Code).Should().Equal("1111", "2222");
        }
    }

    [Fact]
    public async Task AnOlderCodeForAnotherAddressOrAnotherUser_IsStillSent()
    {
        await using var worker = await Environment.StartWorkerAsync();
        var registered = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1), code: "1111");
        var newer = TestMessages.Reissued(registered, DateTimeOffset.UtcNow.AddMinutes(2), code: "2222");
        var otherAddress = registered with { Email = $"other-{registered.UserId:N}@example.test" };
        var otherUser = registered with { UserId = Guid.NewGuid() };
        var newerId = Guid.NewGuid();
        await PublishAsync(worker, newer, newerId);
        await Environment.Database.WaitForOutcomeAsync(newerId, "sent");

        var (otherAddressId, otherUserId) = (Guid.NewGuid(), Guid.NewGuid());
        await PublishAsync(worker, otherAddress, otherAddressId);
        await PublishAsync(worker, otherUser, otherUserId);

        await Environment.Database.WaitForOutcomeAsync(otherAddressId, "sent");
        await Environment.Database.WaitForOutcomeAsync(otherUserId, "sent");
    }

    [Fact]
    public async Task TheEmailChangedNotice_IsNotACode_ItNeitherSupersedesNorIsSuperseded()
    {
        await using var worker = await Environment.StartWorkerAsync();
        var now = DateTimeOffset.UtcNow;
        var code = TestMessages.UserRegistered(now.AddMinutes(1), code: "1111");
        var olderNotice = new EmailChanged(code.UserId, code.Email, $"new-{code.UserId:N}@example.org", now.AddMinutes(-5));
        var laterCode = TestMessages.Reissued(code, now.AddMinutes(3), code: "3333");
        var newerNotice = olderNotice with { OccurredAt = now.AddMinutes(2) };
        var ids = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };

        // A code, then a notice older than it, then a newer notice, then a code newer than both notices.
        await PublishAsync(worker, code, ids[0]);
        await Environment.Database.WaitForOutcomeAsync(ids[0], "sent");
        await PublishAsync(worker, olderNotice, ids[1]);
        await Environment.Database.WaitForOutcomeAsync(ids[1], "sent");
        await PublishAsync(worker, newerNotice, ids[2]);
        await Environment.Database.WaitForOutcomeAsync(ids[2], "sent");
        await PublishAsync(worker, laterCode, ids[3]);

        await Environment.Database.WaitForOutcomeAsync(ids[3], "sent");
    }

    private static Task PublishAsync(WorkerHost worker, object message, Guid id) => message switch
    {
        UserRegistered registered => worker.PublishAsync(registered, id),
        ActivationCodeReissued reissued => worker.PublishAsync(reissued, id),
        EmailChanged changed => worker.PublishAsync(changed, id),
        _ => throw new ArgumentOutOfRangeException(nameof(message)),
    };
}
