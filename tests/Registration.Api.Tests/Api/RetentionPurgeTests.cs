using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Registration.Api.Infrastructure;

namespace Registration.Api.Tests.Api;

/// <summary>
/// Issue 12 item 10: the retention purge deletes pending accounts by their LAST code (not their creation), in
/// bounded batches, one instance at a time. The pass is called directly; the periodic one runs once at start
/// and then once a day on the fake clock, which these tests never move that far.
/// </summary>
public sealed class RetentionPurgeTests(RetentionPurgeTests.PurgeApi factory) : IClassFixture<RetentionPurgeTests.PurgeApi>
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    /// <summary>Pending accounts kept an hour after their last code, purged ten per statement.</summary>
    public sealed class PurgeApi : ApiFixture
    {
        public const int BatchSize = 10;

        protected override void Configure(TestSettings settings) => settings
            .Set("Activation:PendingRetention", Retention)
            .Set("Activation:PurgeInterval", TimeSpan.FromDays(1))
            .PurgeBatchSize(BatchSize);
    }

    private readonly HttpClient _client = factory.CreateClient();

    private RetentionPurger Purger => factory.Api.Services.GetServices<IHostedService>().OfType<RetentionPurger>().Single();

    [Fact]
    public async Task Purge_KeepsAPendingAccount_ThatAResendJustGaveALiveCode()
    {
        // Before: the purge went by created_at and deleted this account seconds after its resend answered 202.
        var resent = await _client.RegisterUserAsync();
        var forgotten = await _client.RegisterUserAsync();
        factory.Clock.Advance(Retention + TimeSpan.FromMinutes(1));
        using (var resend = await _client.RequestNewCodeAsync(resent))
        {
            resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        var result = await PurgeAsync();

        result.Ran.Should().BeTrue();
        (await factory.Database.GetStatusAsync(resent.Id)).Should().Be("pending", "its last code was issued a moment ago");
        (await factory.Database.GetStatusAsync(forgotten.Id)).Should().BeNull("its last code is older than the retention");
        var code = (await factory.Database.GetCurrentCodeAsync(resent.Id)).Code;
        using var activation = await _client.ActivateAsync(resent, code);
        activation.StatusCode.Should().Be(HttpStatusCode.OK, "the code the resend announced still works");
    }

    [Fact]
    public async Task Purge_DeletesMoreAccountsThanOneBatchHolds_InSeveralBoundedBatches_WithTheirUnpublishedMessages()
    {
        const int Stale = (PurgeApi.BatchSize * 2) + 5;
        var ids = new List<Guid>();
        for (var i = 0; i < Stale; i++)
        {
            ids.Add((await _client.RegisterUserAsync()).Id);
        }

        var active = await _client.RegisterActiveUserAsync(factory.Database);
        factory.Clock.Advance(Retention + TimeSpan.FromMinutes(1));
        await using (var connection = await factory.Database.OpenAsync())
        {
            // As if the broker had been away: their messages were never published (nor will be during the test).
            await connection.ExecuteAsync(
                "UPDATE outbox_messages SET dispatched_at = NULL, next_attempt_at = now() + interval '1 day' WHERE user_id = ANY(@Ids)",
                new { Ids = ids.ToArray() });
        }

        var result = await PurgeAsync();

        result.Users.Should().BeGreaterThanOrEqualTo(Stale);
        result.UserBatches.Should().BeGreaterThanOrEqualTo(3, "{0} accounts at most {1} per statement", Stale, PurgeApi.BatchSize);
        foreach (var id in ids)
        {
            (await factory.Database.GetStatusAsync(id)).Should().BeNull();
            (await factory.Database.GetOutboxMessagesAsync(id)).Should().BeEmpty("an account that is gone gets no email");
        }

        (await factory.Database.GetStatusAsync(active.Id)).Should().Be("active", "active accounts are never purged");
    }

    [Fact]
    public async Task Purge_IsSkipped_WhileAnotherInstanceRunsIt()
    {
        var stale = await _client.RegisterUserAsync();
        factory.Clock.Advance(Retention + TimeSpan.FromMinutes(1));
        await using var otherInstance = await factory.Database.OpenAsync();
        (await otherInstance.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@Key)", new { Key = RetentionPurger.LockKey })).Should().BeTrue();

        var whileHeld = await Purger.PurgeAsync(CancellationToken.None);
        var stillThere = await factory.Database.GetStatusAsync(stale.Id);
        await otherInstance.ExecuteAsync("SELECT pg_advisory_unlock(@Key)", new { Key = RetentionPurger.LockKey });
        var afterwards = await PurgeAsync();

        whileHeld.Ran.Should().BeFalse();
        stillThere.Should().Be("pending");
        afterwards.Ran.Should().BeTrue();
        (await factory.Database.GetStatusAsync(stale.Id)).Should().BeNull();
    }

    /// <summary>A pass that ran (the one at start-up may still hold the lock for a moment).</summary>
    private Task<PurgeResult> PurgeAsync() =>
        Eventually.GetAsync(() => Purger.PurgeAsync(CancellationToken.None), result => result.Ran, "a purge pass that got the lock");
}
