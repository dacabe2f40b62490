using System.Text.Json;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// Sign-in throttling on every Basic-auth route (design, "Abuse limits"): after
/// <c>Security:MaxFailedSignIns</c> consecutive wrong passwords for one email from one client, that client gets
/// 429 <c>too-many-requests</c> for that email, answered before bcrypt, with a back-off doubling from 1 to 15
/// minutes; a success resets it. Past <c>Security:MaxFailedSignInsPerAccountPerHour</c> failures from all
/// clients, every client gets 429 for it until the hour passes. A client is an IPv4 address or an IPv6 /64,
/// named here through X-Forwarded-For from the trusted loopback proxy. Unknown emails are counted like known
/// ones: nothing in the answers tells them apart.
/// </summary>
public sealed class SignInThrottlingTests(SignInThrottlingTests.ThrottledKestrelApi factory, ITestOutputHelper output)
    : IClassFixture<SignInThrottlingTests.ThrottledKestrelApi>
{
    private const int MaxFailedSignIns = 10;
    private const int MaxFailedSignInsPerAccountPerHour = 100;
    private const string WrongPassword = "not the password";

    /// <summary>Kestrel, loopback trusted as the reverse proxy, the default throttling limits.</summary>
    public sealed class ThrottledKestrelApi : KestrelApiFixture
    {
        protected override void Configure(TestSettings settings) => settings.TrustLoopbackProxy();
    }

    [Fact]
    public async Task TheEleventhSignIn_AfterTenWrongPasswords_IsRefusedWithRetryAfter_EvenWithTheRightPassword()
    {
        var client = ClientAt(ClientAddresses.Next());
        var user = await client.RegisterUserAsync();
        var wrongAnswers = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < MaxFailedSignIns; attempt++)
        {
            using var wrong = await client.GetMeAsync(BasicAuth.Header(user.Email, WrongPassword));
            wrongAnswers.Add(wrong.StatusCode);
        }

        using var eleventh = await client.GetMeAsync(user.Credentials);

        output.WriteLine($"{MaxFailedSignIns} wrong passwords: {Tally.Of(wrongAnswers)}; the 11th sign-in, right password: {(int)eleventh.StatusCode}");
        wrongAnswers.Should().OnlyContain(status => status == HttpStatusCode.Unauthorized);
        await eleventh.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
        eleventh.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task ABlock_HoldsForOneEmailFromOneClient_AnIPv4AddressOrAnIPv6Slash64_AndNoOneElse()
    {
        var user = await ClientAt(ClientAddresses.Next()).RegisterUserAsync();
        var other = await ClientAt(ClientAddresses.Next()).RegisterUserAsync();
        var attacker = ClientAt(ClientAddresses.Next());
        var prefix = ClientAddresses.NextIPv6Prefix();
        var attackerV6 = ClientAt(ClientAddresses.InPrefix(prefix, 1));
        await FailAsync(attacker, user.Email, MaxFailedSignIns);
        await FailAsync(attackerV6, user.Email, MaxFailedSignIns);

        var answers = new Dictionary<string, HttpStatusCode>
        {
            ["the blocked IPv4 client"] = await StatusAsync(attacker, user.Credentials),
            ["the blocked IPv4 client, another email"] = await StatusAsync(attacker, other.Credentials),
            ["another IPv4 client"] = await StatusAsync(ClientAt(ClientAddresses.Next()), user.Credentials),
            ["the blocked IPv6 host"] = await StatusAsync(attackerV6, user.Credentials),
            ["another host of the blocked /64"] = await StatusAsync(ClientAt(ClientAddresses.InPrefix(prefix, 0xbeef)), user.Credentials),
            ["a host of another /64"] = await StatusAsync(ClientAt(ClientAddresses.InPrefix(ClientAddresses.NextIPv6Prefix(), 1)), user.Credentials),
        };

        output.WriteLine(string.Join(Environment.NewLine, answers.Select(answer => $"{answer.Key}: {(int)answer.Value}")));
        answers.Should().Equal(new Dictionary<string, HttpStatusCode>
        {
            ["the blocked IPv4 client"] = HttpStatusCode.TooManyRequests,
            ["the blocked IPv4 client, another email"] = HttpStatusCode.OK,
            ["another IPv4 client"] = HttpStatusCode.OK,
            ["the blocked IPv6 host"] = HttpStatusCode.TooManyRequests,
            ["another host of the blocked /64"] = HttpStatusCode.TooManyRequests,
            ["a host of another /64"] = HttpStatusCode.OK,
        });
    }

    [Fact]
    public async Task TheBlock_DoublesWithEachFurtherFailure_UpTo15Minutes_AndASuccessStartsOver()
    {
        var client = ClientAt(ClientAddresses.Next());
        var user = await client.RegisterUserAsync();
        await FailAsync(client, user.Email, MaxFailedSignIns);

        var blocks = new List<TimeSpan>();
        for (var block = 0; block < 6; block++)
        {
            using var refused = await client.GetMeAsync(BasicAuth.Header(user.Email, WrongPassword));
            await refused.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
            blocks.Add(refused.Headers.RetryAfter!.Delta!.Value);
            factory.Clock.Advance(blocks[^1]);
            using var failed = await client.GetMeAsync(BasicAuth.Header(user.Email, WrongPassword));
            failed.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "once the block ends the password is checked again");
        }

        factory.Clock.Advance(TimeSpan.FromMinutes(15));
        using var success = await client.GetMeAsync(user);
        await FailAsync(client, user.Email, MaxFailedSignIns - 1);
        using var stillAllowed = await client.GetMeAsync(user);

        output.WriteLine($"Blocks after the 10th, 11th, ... failure: {string.Join(", ", blocks.Select(b => $"{b.TotalMinutes:0} min"))}");
        blocks.Select(b => b.TotalMinutes).Should().Equal(1, 2, 4, 8, 15, 15);
        success.StatusCode.Should().Be(HttpStatusCode.OK);
        stillAllowed.StatusCode.Should().Be(HttpStatusCode.OK, "the success reset the count: 9 failures block nothing");
    }

    [Fact]
    public async Task PastAHundredFailuresInAnHour_FromManyClients_EveryClientIsRefusedForThatEmail_UntilTheHourEnds()
    {
        var user = await ClientAt(ClientAddresses.Next()).RegisterUserAsync();
        var firstFailureAt = factory.Clock.GetUtcNow();
        var failures = 0;
        while (failures < MaxFailedSignInsPerAccountPerHour)
        {
            // Each client stays under its own limit: only the per-email count can stop this.
            var batch = Math.Min(MaxFailedSignIns - 1, MaxFailedSignInsPerAccountPerHour - failures);
            await FailAsync(ClientAt(ClientAddresses.Next()), user.Email, batch);
            failures += batch;
        }

        using var refused = await ClientAt(ClientAddresses.Next()).GetMeAsync(user);
        var expectedWait = firstFailureAt + TimeSpan.FromHours(1) - factory.Clock.GetUtcNow();
        factory.Clock.Advance(firstFailureAt + TimeSpan.FromHours(1) - factory.Clock.GetUtcNow() - TimeSpan.FromSeconds(1));
        using var stillRefused = await ClientAt(ClientAddresses.Next()).GetMeAsync(user);
        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        using var afterTheHour = await ClientAt(ClientAddresses.Next()).GetMeAsync(user);

        await refused.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
        refused.Headers.RetryAfter!.Delta.Should().Be(expectedWait, "every client waits until the hour that began with the first failure ends");
        stillRefused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        stillRefused.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        afterTheHour.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task FailuresOnTwoInstances_AddUp_SoTheBlockHoldsOnBoth()
    {
        // A second API on the same database, behind the same (loopback) proxy: the counts live in PostgreSQL.
        await using var other = await factory.StartApiAsync(settings => settings.TrustLoopbackProxy(), overHttp: true);
        var address = ClientAddresses.Next();
        var (a, b) = (ClientAt(address), other.CreateClient().From(address));
        var user = await a.RegisterUserAsync();
        await FailAsync(a, user.Email, MaxFailedSignIns / 2);
        await FailAsync(b, user.Email, MaxFailedSignIns - (MaxFailedSignIns / 2));

        using var onA = await a.GetMeAsync(user);
        using var onB = await b.GetMeAsync(user);

        await onA.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
        await onB.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
    }

    [Fact]
    public async Task UnknownAndKnownEmails_GetTheSameAnswers_HeadersAndBodies_AndCostTheSameWork()
    {
        var known = await ClientAt(ClientAddresses.Next()).RegisterUserAsync();
        var unknown = ApiRequests.UniqueEmail("nobody");
        var client = ClientAt(ClientAddresses.Next());

        var knownAnswers = new List<string>();
        var unknownAnswers = new List<string>();
        for (var attempt = 0; attempt <= MaxFailedSignIns; attempt++)
        {
            knownAnswers.Add(await DescribeAsync(client, known.Email));
            unknownAnswers.Add(await DescribeAsync(client, unknown));
        }

        output.WriteLine($"Known email, wrong password, 11 times:{Environment.NewLine}  {string.Join($"{Environment.NewLine}  ", knownAnswers.Distinct())}");
        unknownAnswers.Should().Equal(knownAnswers, "an answer, its headers and body never tell whether an account has the email");
        knownAnswers[^1].Should().StartWith("429");

        // By structure: the same statements in the same order, one bcrypt run on each path (see the handler).
        var fresh = ClientAt(ClientAddresses.Next());
        var knownSql = await SqlOfOneSignInAsync(fresh, known.Email);
        var unknownSql = await SqlOfOneSignInAsync(fresh, ApiRequests.UniqueEmail("nobody"));
        output.WriteLine($"Statements of a wrong sign-in: {string.Join(" | ", knownSql.Select(sql => sql.Split('\n')[0].Trim()))}");
        knownSql.Should().NotBeEmpty().And.Equal(unknownSql);
        var blockedSql = await SqlOfOneSignInAsync(client, unknown);
        blockedSql.Should().Equal(knownSql.Take(1), "a refused sign-in runs the look-up only: no bcrypt, nothing counted");
    }

    private HttpClient ClientAt(string address) => factory.CreateClient().From(address);

    private static async Task FailAsync(HttpClient client, string email, int times)
    {
        for (var attempt = 0; attempt < times; attempt++)
        {
            using var response = await client.GetMeAsync(BasicAuth.Header(email, WrongPassword));
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, System.Net.Http.Headers.AuthenticationHeaderValue credentials)
    {
        using var response = await client.GetMeAsync(credentials);
        return response.StatusCode;
    }

    /// <summary>Status, headers (but the date) and body (but the trace id) of a wrong sign-in.</summary>
    private static async Task<string> DescribeAsync(HttpClient client, string email)
    {
        using var response = await client.GetMeAsync(BasicAuth.Header(email, WrongPassword));
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(header => header.Key is not "Date")
            .OrderBy(header => header.Key, StringComparer.Ordinal)
            .Select(header => $"{header.Key}: {string.Join(",", header.Value)}");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateObject()
            .Where(member => member.Name != "traceId")
            .Select(member => $"{member.Name}={member.Value}");
        return $"{(int)response.StatusCode} [{string.Join("; ", headers)}] {{{string.Join(", ", body)}}}";
    }

    private static async Task<IReadOnlyList<string>> SqlOfOneSignInAsync(HttpClient client, string email)
    {
        using var spans = new SpanCollector();
        string traceId;
        using (var trace = SpanCollector.StartTrace("a sign-in"))
        {
            traceId = trace.TraceId.ToHexString();
            using var response = await client.GetMeAsync(BasicAuth.Header(email, WrongPassword));
        }

        return await Eventually.GetAsync(
            () => spans.InTrace(traceId).Any(span => span.Source.Name == "Microsoft.AspNetCore") ? spans.SqlInTrace(traceId) : null,
            sql => sql is not null,
            "the request's spans") ?? [];
    }
}
