using Dapper;

namespace Registration.Api.Tests.Api;

/// <summary>
/// Upgrading a database the previous version (migration 0001) filled: the address keys (0002, and the C#
/// back-fill at start-up for what SQL cannot key exactly), codes with a purpose and a recipient (0003), the
/// accounts the old PATCH had put back to pending (0004), outbox rows naming their user (0007).
/// </summary>
public sealed class SchemaUpgradeTests(TestEnvironment environment) : IClassFixture<TestEnvironment>
{
    private const string Password = "the old password";

    [Fact]
    public async Task AnOldDatabase_IsUpgraded_AndItsAccountsSignInUnderTheNewRules()
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        var now = environment.Clock.GetUtcNow();
        var hash = BCrypt.Net.BCrypt.HashPassword(Password, 4);
        var mixedCase = ($"Ada-{tag}@Example.COM", Guid.NewGuid());
        var accented = ($"JOSÉ-{tag}@example.test", Guid.NewGuid());
        var moved = ($"moved-{tag}@example.test", Guid.NewGuid());
        var composed = ($"ren\u00E9-{tag}@example.test", Guid.NewGuid());
        var decomposed = ($"rene\u0301-{tag}@example.test", Guid.NewGuid());
        await environment.Database.ApplyApiMigrationsUpToAsync("0001");
        await using (var connection = await environment.Database.OpenAsync())
        {
            // As the old version wrote them: an active account under an accented address, one the old PATCH put
            // back to pending (ever_activated), and two that the old index let exist side by side.
            await connection.ExecuteAsync(
                """
                INSERT INTO users (id, email, password_hash, status, created_at, activated_at, ever_activated)
                VALUES (@Id, @Email, @Hash, @Status, @Now, CASE WHEN @Status = 'active' THEN @Now END, @EverActivated)
                """,
                new[]
                {
                    new { Id = mixedCase.Item2, Email = mixedCase.Item1, Hash = hash, Status = "pending", Now = now, EverActivated = false },
                    new { Id = accented.Item2, Email = accented.Item1, Hash = hash, Status = "active", Now = now, EverActivated = true },
                    new { Id = moved.Item2, Email = moved.Item1, Hash = hash, Status = "pending", Now = now, EverActivated = true },
                    new { Id = composed.Item2, Email = composed.Item1, Hash = hash, Status = "active", Now = now, EverActivated = true },
                    new { Id = decomposed.Item2, Email = decomposed.Item1, Hash = hash, Status = "active", Now = now, EverActivated = true },
                });
            await connection.ExecuteAsync(
                """
                INSERT INTO activation_codes (id, user_id, code, reason, issued_at, expires_at)
                VALUES (gen_random_uuid(), @Id, '0427', 'email-changed', @Now, @Now + interval '1 minute');
                INSERT INTO outbox_messages (id, message_type, payload, created_at)
                VALUES (gen_random_uuid(), 'ActivationCodeReissued', jsonb_build_object('userId', @Id::text), @Now);
                """,
                new { Id = moved.Item2, Now = now });
        }

        var api = await environment.StartApiAsync();
        using var client = api.CreateApiClient();

        using var signInAnyCase = await client.GetMeAsync(BasicAuth.Header(mixedCase.Item1.ToLowerInvariant(), Password));
        signInAnyCase.StatusCode.Should().Be(HttpStatusCode.OK, "an ASCII address is keyed in SQL exactly as C# keys it");
        using var signInAccented = await client.GetMeAsync(BasicAuth.Header($"josé-{tag}@EXAMPLE.TEST", Password));
        signInAccented.StatusCode.Should().Be(HttpStatusCode.OK, "a non-ASCII address is keyed in C# at start-up");
        using var takenAccented = await client.RegisterAsync($"josé-{tag}@example.test", "someone else");
        await takenAccented.ShouldBeProblemAsync(HttpStatusCode.Conflict, "/problems/email-taken");

        // The moved account is an ordinary pending account: its owner may still activate it...
        using var movedMe = await client.GetMeAsync(BasicAuth.Header(moved.Item1, Password));
        (await movedMe.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("pending");
        (await environment.Database.GetCurrentCodeAsync(moved.Item2)).Should().Match<StoredCode>(code => code.Reason == "email-changed");
        // ...and once its code is dead, the address's real owner can take it over.
        environment.Clock.Advance(TimeSpan.FromMinutes(1));
        using var takeover = await client.RegisterAsync(moved.Item1, "the real owner's password");
        takeover.StatusCode.Should().Be(HttpStatusCode.Created);

        // One of two accounts the new rules call the same address keeps it; the other is reported.
        var keys = new Dictionary<Guid, string>();
        await using (var connection = await environment.Database.OpenAsync())
        {
            foreach (var id in new[] { composed.Item2, decomposed.Item2 })
            {
                keys[id] = await connection.ExecuteScalarAsync<string>("SELECT email_key FROM users WHERE id = @Id", new { Id = id }) ?? string.Empty;
            }

            (await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox_messages WHERE user_id IS NULL")).Should().Be(0);
            (await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM activation_codes WHERE purpose <> 'activation' OR sent_to IS NULL"))
                .Should().Be(0);
        }

        keys.Values.Should().ContainSingle(key => key == $"rené-{tag}@example.test");
        keys.Values.Should().ContainSingle(key => key.StartsWith("duplicate:", StringComparison.Ordinal));
        api.Logs.Lines.Should().ContainSingle(line => line.EventName == "EmailKeyCollision");
    }
}
