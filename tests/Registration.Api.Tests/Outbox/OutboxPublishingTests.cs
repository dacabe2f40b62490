using System.Text.Json;
using Registration.Contracts.V1;

namespace Registration.Api.Tests.Outbox;

/// <summary>
/// The outbox dispatcher against the real broker: each row published once, its id as MessageId. A row is
/// marked dispatched only after the broker confirmed it, so once it is, every copy ever published is in
/// the tap's queue: counting them then needs no waiting.
/// </summary>
public sealed class OutboxPublishingTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task Register_PublishesUserRegisteredExactlyOnce_WithTheOutboxIdAsMessageId()
    {
        await using var tap = await ExchangeTap.BindAsync(Environment.VirtualHost, Broker.ExchangeOf<UserRegistered>());

        var user = await Client.RegisterUserAsync();

        var row = (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Should().ContainSingle().Subject;
        var dispatched = await WaitUntilDispatchedAsync(row.Id);
        var tapped = await tap.ReadAsync();

        var message = (await tap.WithMessageIdAsync(row.Id)).Should().ContainSingle().Subject;
        tapped.Where(copy => MessageUserId(copy) == user.Id).Should().ContainSingle("nothing else was published for the user");
        dispatched.Attempts.Should().Be(0, "the first publish was confirmed");
        var envelope = JsonDocument.Parse(message.Body).RootElement;
        envelope.GetProperty("messageId").GetGuid().Should().Be(row.Id);
        envelope.GetProperty("messageType").EnumerateArray().Select(type => type.GetString())
            .Should().Contain("urn:message:Registration.Contracts.V1:UserRegistered");
        var code = await Environment.Database.GetCurrentCodeAsync(user.Id);
        var payload = envelope.GetProperty("message");
        payload.GetProperty("userId").GetGuid().Should().Be(user.Id);
        payload.GetProperty("email").GetString().Should().Be(user.Email);
        payload.GetProperty("activationCode").GetString().Should().Be(code.Code);
    }

    [Fact]
    public async Task Resend_PublishesActivationCodeReissued_WithTheOutboxIdAsMessageId()
    {
        await using var registered = await ExchangeTap.BindAsync(Environment.VirtualHost, Broker.ExchangeOf<UserRegistered>());
        await using var reissued = await ExchangeTap.BindAsync(Environment.VirtualHost, Broker.ExchangeOf<ActivationCodeReissued>());
        var user = await Client.RegisterUserAsync();
        Environment.Clock.Advance(TimeSpan.FromSeconds(30));

        (await Client.RequestNewCodeAsync(user)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var row = (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Should().Contain(message => message.MessageType == "ActivationCodeReissued").Subject;
        await WaitUntilDispatchedAsync(row.Id);
        var payload = JsonDocument.Parse((await reissued.WithMessageIdAsync(row.Id)).Should().ContainSingle().Subject.Body).RootElement.GetProperty("message");
        payload.GetProperty("activationCode").GetString().Should().Be((await Environment.Database.GetCurrentCodeAsync(user.Id)).Code);
        payload.GetProperty("reason").GetString().Should().Be("resend");
    }

    [Fact]
    public async Task Dispatcher_KeepsAMessageUndispatched_WhileNoQueueIsBound_AndDeliversItOnceOneIs()
    {
        // No tap: the other tests' queues are exclusive and auto-delete, so none is bound now.
        var user = await Client.RegisterUserAsync();
        var row = (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Should().ContainSingle().Subject;

        var refused = await Eventually.GetAsync(
            () => GetRowAsync(row.Id), stored => stored.Attempts >= 1 || stored.DispatchedAt is not null, "the dispatcher tries the row");
        refused.DispatchedAt.Should().BeNull("an unroutable message must not count as sent");
        refused.LastError.Should().NotBeNullOrEmpty();

        await using var tap = await ExchangeTap.BindAsync(Environment.VirtualHost, Broker.ExchangeOf<UserRegistered>());
        await WaitUntilDispatchedAsync(row.Id);
        (await tap.WithMessageIdAsync(row.Id)).Should().ContainSingle();
    }

    [Fact]
    public async Task AMessageOfADeletedAccount_ClaimedAfterTheDeletion_IsDroppedNotPublished()
    {
        // No tap yet: the row is refused (no queue bound) and retried, so it is still unsent when the test holds it.
        var user = await Client.RegisterUserAsync();
        var row = (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Should().ContainSingle().Subject;
        await Eventually.GetAsync(() => GetRowAsync(row.Id), stored => stored.Attempts >= 1, "the dispatcher tries the row");

        ExchangeTap tap;
        // As the dispatcher holds a row while it publishes it: the deletion skips the row and leaves it behind.
        await using (await Environment.Database.HoldUnpublishedAsync(user.Id, afterAPublishUnderWay: true))
        {
            using var deletion = await Client.DeleteMeAsync(user.Credentials);
            deletion.StatusCode.Should().Be(HttpStatusCode.NoContent);
            (await GetRowAsync(row.Id)).DispatchedAt.Should().BeNull("the deletion skipped the held row, which was not published");
            // From here the broker would take the message: a publish of it now would be confirmed and tapped.
            tap = await ExchangeTap.BindAsync(Environment.VirtualHost, Broker.ExchangeOf<UserRegistered>());
        }

        await using (tap)
        {
            // The dispatcher claims the row again, finds its user gone and deletes it (a published row would stay,
            // marked dispatched: a row is only deleted unpublished).
            await Eventually.HoldsAsync(
                async () => (await Environment.Database.GetOutboxMessagesByIdAsync([row.Id])).Count == 0, "the dispatcher drops the deleted account's row");
            (await tap.WithMessageIdAsync(row.Id)).Should().BeEmpty("a message claimed after its account's deletion is never published");
        }
    }

    private async Task<StoredOutboxMessage> WaitUntilDispatchedAsync(Guid rowId) =>
        await Eventually.GetAsync(() => GetRowAsync(rowId), row => row.DispatchedAt is not null, "the row is marked dispatched");

    private async Task<StoredOutboxMessage> GetRowAsync(Guid rowId) => (await Environment.Database.GetOutboxMessagesByIdAsync([rowId])).Single();

    private static Guid? MessageUserId(TappedMessage message)
    {
        var envelope = JsonDocument.Parse(message.Body).RootElement;
        return envelope.TryGetProperty("message", out var payload) && payload.TryGetProperty("userId", out var id) ? id.GetGuid() : null;
    }
}
