using System.Text.Json;
using Dapper;

namespace Registration.Api.Tests.Api;

/// <summary>
/// The transactional outbox as the database sees it: a registration's user, code and UserRegistered row
/// commit together or not at all.
/// </summary>
public sealed class RegistrationOutboxTests(ApiFixture factory) : ApiTest(factory)
{
    [Fact]
    public async Task Register_WritesOneUserRegisteredOutboxMessage_CarryingTheUsersCode()
    {
        var user = await Client.RegisterUserAsync();

        var code = await Environment.Database.GetCurrentCodeAsync(user.Id);
        var message = (await Environment.Database.GetOutboxMessagesAsync(user.Id)).Should().ContainSingle().Subject;
        message.MessageType.Should().Be("UserRegistered");
        message.CreatedAt.Should().Be(Environment.Clock.GetUtcNow().UtcDateTime);
        var payload = JsonDocument.Parse(message.Payload).RootElement;
        payload.GetProperty("userId").GetGuid().Should().Be(user.Id);
        payload.GetProperty("email").GetString().Should().Be(user.Email);
        payload.GetProperty("activationCode").GetString().Should().Be(code.Code);
        payload.GetProperty("codeExpiresAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow() + TimeSpan.FromMinutes(1));
        payload.GetProperty("occurredAt").GetDateTimeOffset().Should().Be(Environment.Clock.GetUtcNow());
    }

    [Fact]
    public async Task Register_LeavesNoCodeAndNoOutboxMessage_WhenAConcurrentRegistrationOfTheEmailCommitsFirst()
    {
        var email = ApiRequests.UniqueEmail("concurrent");
        var rivalId = Guid.NewGuid();
        await using var rival = await Environment.Database.OpenAsync();
        await using var rivalTransaction = await rival.BeginTransactionAsync();
        // An uncommitted row: the API's checks do not see it, but its insert must wait on the unique index.
        await rival.ExecuteAsync(
            TestDatabase.InsertPendingUserSql, TestDatabase.PendingUser(rivalId, email.ToUpperInvariant(), Environment.Clock.GetUtcNow()), rivalTransaction);

        var registration = Client.RegisterAsync(email, ApiRequests.DefaultPassword);
        await Eventually.HoldsAsync(
            () => IsWaitingOnALockAsync("INSERT INTO users"),
            "the API's user insert waits for the rival transaction",
            TimeSpan.FromSeconds(10));
        await rivalTransaction.CommitAsync();
        using var response = await registration;

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");
        (await Environment.Database.GetUsersAsync(email)).Should().ContainSingle().Which.Id.Should().Be(rivalId);
        (await Environment.Database.CountCodesOfUsersWithEmailAsync(email)).Should().Be(0);
        (await Environment.Database.CountOrphanCodesAsync()).Should().Be(0);
        (await Environment.Database.GetOutboxMessagesAsync(email)).Should().BeEmpty();
    }

    [Fact]
    public async Task Register_LeavesNoUserAndNoCode_WhenWritingTheOutboxMessageFails()
    {
        const string prefix = "outbox-fails";
        var email = ApiRequests.UniqueEmail(prefix);
        // The outbox insert is the last write of the transaction: if it fails, the user and code must go too.
        await Environment.Database.ExecuteAsync($$"""
            CREATE OR REPLACE FUNCTION test_fail_outbox_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.payload->>'email' LIKE '{{prefix}}-%' THEN
                    RAISE EXCEPTION 'simulated outbox failure';
                END IF;
                RETURN NEW;
            END;
            $$;
            CREATE TRIGGER test_fail_outbox_insert BEFORE INSERT ON outbox_messages
                FOR EACH ROW EXECUTE FUNCTION test_fail_outbox_insert();
            """);
        try
        {
            using var response = await Client.RegisterAsync(email, ApiRequests.DefaultPassword);

            // An error the database raises for good (not a transient one) is a defect: 500, cause not told.
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "/problems/internal");
            problem.GetRawText().Should().NotContain("simulated outbox failure");
            (await Environment.Database.GetUsersAsync(email)).Should().BeEmpty();
            (await Environment.Database.CountOrphanCodesAsync()).Should().Be(0);
            (await Environment.Database.GetOutboxMessagesAsync(email)).Should().BeEmpty();
        }
        finally
        {
            await Environment.Database.ExecuteAsync(
                "DROP TRIGGER test_fail_outbox_insert ON outbox_messages; DROP FUNCTION test_fail_outbox_insert();");
        }

        // The email was never taken: registering it again works.
        (await Client.RegisterUserAsync(email)).Email.Should().Be(email);
    }

    private async Task<bool> IsWaitingOnALockAsync(string queryStart)
    {
        await using var connection = await Environment.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<bool>(
            """
            SELECT EXISTS (
                SELECT FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND ltrim(query) LIKE @Pattern)
            """,
            new { Pattern = queryStart + "%" });
    }
}
