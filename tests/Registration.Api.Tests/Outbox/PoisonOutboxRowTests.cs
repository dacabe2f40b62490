using Dapper;
using Registration.Contracts.V1;

namespace Registration.Api.Tests.Outbox;

/// <summary>
/// Poison outbox rows, written straight into the table: a payload the dispatcher cannot read is parked at
/// once (reason, time) and never retried; a type this version does not know is left for another version
/// and parked only once no instance published it for ten minutes; operators list parked rows (never their
/// payload) and requeue them; retention deletes them. A transient broker failure is still retried.
/// </summary>
public sealed class PoisonOutboxRowTests(PoisonOutboxRowTests.BrokerBehindAProxyApi api, ITestOutputHelper output)
    : IClassFixture<PoisonOutboxRowTests.BrokerBehindAProxyApi>
{
    /// <summary>What a poison payload carries that must never reach a log, a reason or the operator's list.</summary>
    private const string SecretEmail = "poison-owner@example.com";
    private const string SecretCode = "secret-code-4242";

    private const string UnreadableUserRegistered =
        $$"""{"userId": "not-a-guid", "email": "{{SecretEmail}}", "activationCode": "{{SecretCode}}"}""";

    /// <summary>The API reaching the broker through a proxy a test can cut; a publish gives up after a second.</summary>
    public sealed class BrokerBehindAProxyApi : ApiFixture
    {
        protected override void Configure(TestSettings settings) =>
            settings.BrokerVia(BrokerProxy).Outbox(publishTimeout: TimeSpan.FromSeconds(1));
    }

    public static TheoryData<string> UnreadablePayloads => new()
    {
        UnreadableUserRegistered,
        $$"""{"email": "{{SecretEmail}}", "activationCode": "{{SecretCode}}"}""",
        $$"""{"userId": "0193a7e2-0000-7000-8000-000000000000", "email": null, "activationCode": "{{SecretCode}}", "codeExpiresAt": "2026-01-01T00:00:00Z", "occurredAt": "2026-01-01T00:00:00Z"}""",
        "null",
        $$"""["{{SecretEmail}}"]""",
    };

    [Theory]
    [MemberData(nameof(UnreadablePayloads))]
    public async Task APayloadThatCannotBeRead_IsParkedAtOnce_WithAReason_AndNeverRetried(string payload)
    {
        await using var tap = await ExchangeTap.BindAsync(api.VirtualHost, Broker.ExchangeOf<UserRegistered>());
        var poison = await api.Database.InsertOutboxRowAsync(nameof(UserRegistered), payload);

        var parked = await WaitUntilParkedAsync(poison);
        // A later pass of the dispatcher (a registration published after it) leaves the row as it was.
        var user = await api.CreateClient().RegisterUserAsync();
        var published = (await api.Database.GetOutboxMessagesAsync(user.Id)).Single().Id;
        await Eventually.HoldsAsync(async () => (await api.Database.GetOutboxParkingAsync(published)).Single().DispatchedAt is not null, "the registration is published");

        output.WriteLine($"parked: {parked.ParkedReason}");
        parked.ParkedReason.Should().StartWith("The payload cannot be read as UserRegistered").And.NotContainAny(SecretEmail, SecretCode);
        parked.Attempts.Should().Be(1, "tried once, then parked");
        parked.DispatchedAt.Should().BeNull();
        (await api.Database.GetOutboxParkingAsync(poison)).Single().Should().Be(parked, "a parked row is not claimed again");
        (await tap.WithMessageIdAsync(poison)).Should().BeEmpty();
    }

    [Fact]
    public async Task ARowOfAnUnknownType_IsLeftForAnotherVersion_AndParkedOnceNoInstancePublishedItForTenMinutes()
    {
        const string unknownType = "EmailChangedV9";
        var payload = $$"""{"email": "{{SecretEmail}}"}""";
        var recent = await api.Database.InsertOutboxRowAsync(unknownType, payload, createdAgo: TimeSpan.FromMinutes(9));
        var old = await api.Database.InsertOutboxRowAsync(unknownType, payload, createdAgo: TimeSpan.FromMinutes(11));

        var parked = await WaitUntilParkedAsync(old);
        var waiting = (await api.Database.GetOutboxParkingAsync(recent)).Single();

        output.WriteLine($"parked: {parked.ParkedReason}");
        parked.ParkedReason.Should().Contain($"'{unknownType}'").And.Contain("unknown type");
        parked.Attempts.Should().Be(0, "a version that cannot publish a type does not try");
        waiting.ParkedAt.Should().BeNull("another version of the API may still publish it");
        waiting.Attempts.Should().Be(0);
        waiting.LastError.Should().BeNull();
    }

    [Fact]
    public async Task ParkedRows_AreListedForOperators_WithoutTheirPayload_AndRequeuedOnceFixed()
    {
        var poison = await api.Database.InsertOutboxRowAsync(nameof(UserRegistered), UnreadableUserRegistered);
        await WaitUntilParkedAsync(poison);

        var (listed, list) = await api.RunApiCommandAsync("outbox-parked", "list");
        output.WriteLine(list);
        listed.Should().Be(0, list);
        list.Should().Contain(poison.ToString()).And.Contain("UserRegistered").And.Contain("The payload cannot be read")
            .And.NotContainAny(SecretEmail, SecretCode);

        // The cause fixed (here: the payload), the operator gives the row back and it is published.
        await using var tap = await ExchangeTap.BindAsync(api.VirtualHost, Broker.ExchangeOf<UserRegistered>());
        await using (var connection = await api.Database.OpenAsync())
        {
            await connection.ExecuteAsync(
                """
                UPDATE outbox_messages
                SET payload = jsonb_build_object('userId', gen_random_uuid(), 'email', @Email, 'activationCode', @Code,
                                                 'codeExpiresAt', now() + interval '1 minute', 'occurredAt', now())
                WHERE id = @Id
                """,
                new { Id = poison, Email = SecretEmail, Code = SecretCode });
        }

        var (requeued, requeue) = await api.RunApiCommandAsync("outbox-parked", "requeue", "--id", poison.ToString());
        output.WriteLine(requeue);
        var (misused, usage) = await api.RunApiCommandAsync("outbox-parked", "requeue");

        requeued.Should().Be(0, requeue);
        requeue.Should().Contain("1 parked outbox message(s) handed back");
        await Eventually.HoldsAsync(async () => (await api.Database.GetOutboxParkingAsync(poison)).Single().DispatchedAt is not null, "the requeued row is published");
        (await tap.WithMessageIdAsync(poison)).Should().ContainSingle();
        misused.Should().Be(2, "requeue names rows or says --all");
        usage.Should().Contain("Usage:");
    }

    [Fact]
    public async Task ParkedRows_AreDeleted_OnceTheRetentionHasPassed()
    {
        var expired = await api.Database.InsertOutboxRowAsync(nameof(UserRegistered), "{}", createdAgo: TimeSpan.FromDays(8), parkedAgo: TimeSpan.FromDays(7.5));
        var kept = await api.Database.InsertOutboxRowAsync(nameof(UserRegistered), "{}", createdAgo: TimeSpan.FromDays(8), parkedAgo: TimeSpan.FromDays(6.5));

        await Eventually.HoldsAsync(async () => (await api.Database.GetOutboxParkingAsync(expired)).Count == 0, "the row parked 7.5 days ago is deleted (retention 7 days)");

        (await api.Database.GetOutboxParkingAsync(kept)).Should().ContainSingle("a row parked 6.5 days ago is kept for the operators");
    }

    [Fact]
    public async Task ATransientBrokerFailure_IsRetriedWithTheCappedBackOff_NotParked()
    {
        await using var tap = await ExchangeTap.BindAsync(api.VirtualHost, Broker.ExchangeOf<UserRegistered>());
        await api.BrokerProxy.TurnOffAsync();
        Guid row;
        StoredOutboxParking failing;
        try
        {
            var user = await api.CreateClient().RegisterUserAsync();
            row = (await api.Database.GetOutboxMessagesAsync(user.Id)).Single().Id;
            failing = await Eventually.GetAsync(
                async () => (await api.Database.GetOutboxParkingAsync(row)).Single(), stored => stored.Attempts >= 3, "three failed publishes of the row");
        }
        finally
        {
            api.BrokerProxy.TurnOn();
        }

        output.WriteLine($"after {failing.Attempts} attempts: {failing.LastError}");
        failing.ParkedAt.Should().BeNull("a broker outage is transient: the row waits and is tried again");
        failing.LastError.Should().NotBeNullOrEmpty();
        await Eventually.HoldsAsync(
            async () => (await api.Database.GetOutboxParkingAsync(row)).Single().DispatchedAt is not null, "the row is published once the broker is back", TimeSpan.FromSeconds(60));
        (await tap.WithMessageIdAsync(row)).Should().NotBeEmpty();
    }

    private async Task<StoredOutboxParking> WaitUntilParkedAsync(Guid id) =>
        await Eventually.GetAsync(async () => (await api.Database.GetOutboxParkingAsync(id)).Single(), row => row.ParkedAt is not null, $"outbox row {id} is parked");
}
