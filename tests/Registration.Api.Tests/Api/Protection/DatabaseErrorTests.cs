namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// A database error is answered by what it means: one that may pass (serialization failure, deadlock, too
/// many connections, shutdown) is 503 <c>unavailable</c> with Retry-After; any other (a query or data the
/// database refuses) is a defect, a logged 500 <c>internal</c> that tells the client nothing of its cause.
/// The errors are real ones, raised by PostgreSQL itself: a trigger on <c>users</c> raises the SQLSTATE
/// named in the registering address (<c>sqlstate-40001-...@example.com</c>).
/// </summary>
public sealed class DatabaseErrorTests(DatabaseErrorTests.Fixture factory) : ApiTest<DatabaseErrorTests.Fixture>(factory)
{
    public sealed class Fixture : ApiFixture
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await Database.ExecuteAsync("""
                CREATE FUNCTION raise_sqlstate_named_in_email() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.email LIKE 'sqlstate-%' THEN
                        RAISE EXCEPTION 'injected failure for %', NEW.email USING ERRCODE = split_part(NEW.email, '-', 2);
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER raise_sqlstate_named_in_email BEFORE INSERT ON users
                    FOR EACH ROW EXECUTE FUNCTION raise_sqlstate_named_in_email();
                """);
        }
    }

    [Theory]
    [InlineData("40001")] // serialization_failure
    [InlineData("40P01")] // deadlock_detected
    [InlineData("55P03")] // lock_not_available
    [InlineData("53300")] // too_many_connections
    [InlineData("57P01")] // admin_shutdown
    [InlineData("57014")] // query_canceled (statement_timeout)
    public async Task Register_ReturnsUnavailable_WithRetryAfter_WhenTheDatabaseErrorIsTransient(string sqlState)
    {
        using var response = await Client.RegisterAsync($"sqlstate-{sqlState}-{Guid.NewGuid():N}@example.com", ApiRequests.DefaultPassword);

        await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "/problems/unavailable");
        response.Headers.RetryAfter.Should().NotBeNull("a client may try again shortly");
    }

    [Theory]
    [InlineData("22021")] // character_not_in_repertoire: a non-ASCII address on a SQL_ASCII database
    [InlineData("22P05")] // untranslatable_character
    [InlineData("42703")] // undefined_column: a query that does not match the schema
    [InlineData("23514")] // check_violation
    [InlineData("XX000")] // internal_error
    public async Task Register_ReturnsInternalError_AndLogsTheDefect_WhenTheDatabaseErrorIsNotTransient(string sqlState)
    {
        var email = $"sqlstate-{sqlState}-{Guid.NewGuid():N}@example.com";

        using var response = await Client.RegisterAsync(email, ApiRequests.DefaultPassword);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "/problems/internal");
        response.Headers.RetryAfter.Should().BeNull("a defect does not pass by waiting");
        var body = problem.GetRawText();
        body.Should().NotContainAny(["injected", sqlState, "sqlstate-", "trigger", "users"], "the body tells nothing of the cause");
        problem.TryGetProperty("detail", out _).Should().BeFalse();

        await Eventually.HoldsAsync(
            () => Environment.Api.Logs.Lines.Any(line => line is { Level: Microsoft.Extensions.Logging.LogLevel.Error, EventName: "RequestFailed" }),
            "the defect is logged at Error");
    }
}
