using Registration.Contracts.V1;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// The per-address limits of the design's "Abuse limits", counted in PostgreSQL over a rolling 24 h, across
/// accounts and reasons: at most <c>Activation:MaxCodesPerAddressPerDay</c> codes emailed to one address and
/// <c>Activation:MaxFailedAttemptsPerAddressPerDay</c> wrong codes for it, each refused past the limit with a
/// <c>Retry-After</c> that says when the oldest counted event leaves the window.
/// </summary>
public sealed class AddressLimitTests(ApiFixture factory, ITestOutputHelper output) : ApiTest(factory)
{
    private const int MaxFailedAttempts = 5;
    private const int MaxWrongCodesPerAddressPerDay = 20;
    private const int MaxCodesPerAddressPerDay = 10;

    [Fact]
    public async Task Activation_RefusesEvenTheRightCode_OnceTwentyWrongCodesWereTriedForTheAddress_AcrossResends()
    {
        // Someone registered an address they do not own and guesses its codes, asking for a new code
        // whenever five wrong tries lock the current one (issue 11: before, the 21st try with the right
        // code activated the account).
        var squatter = await Client.RegisterUserAsync(ApiRequests.UniqueEmail("not-mine"));
        var wrongAnswers = new List<HttpStatusCode>();
        var firstWrongAt = Environment.Clock.GetUtcNow();
        for (var round = 0; round < MaxWrongCodesPerAddressPerDay / MaxFailedAttempts; round++)
        {
            var code = (await Environment.Database.GetCurrentCodeAsync(squatter.Id)).Code;
            for (var guess = 0; guess < MaxFailedAttempts; guess++)
            {
                using var wrong = await Client.ActivateAsync(squatter, ApiRequests.OtherThan(code));
                wrongAnswers.Add(wrong.StatusCode);
            }

            Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
            using var resend = await Client.RequestNewCodeAsync(squatter);
            resend.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        var rightCode = (await Environment.Database.GetCurrentCodeAsync(squatter.Id)).Code;
        using var right = await Client.ActivateAsync(squatter, rightCode);

        output.WriteLine($"{wrongAnswers.Count} wrong codes over {MaxWrongCodesPerAddressPerDay / MaxFailedAttempts} codes: {Tally.Of(wrongAnswers)}; then the right code of a fresh one: {(int)right.StatusCode}");
        wrongAnswers.Should().OnlyContain(status => status == HttpStatusCode.UnprocessableEntity);
        await right.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/activation-code-locked");
        right.Headers.RetryAfter!.Delta.Should().Be(
            TimeSpan.FromSeconds(Math.Ceiling((firstWrongAt + TimeSpan.FromDays(1) - Environment.Clock.GetUtcNow()).TotalSeconds)),
            "the address unlocks when its oldest counted wrong code leaves the 24 h window");
        (await Environment.Database.GetStatusAsync(squatter.Id)).Should().Be("pending");
    }

    [Fact]
    public async Task CodesToOneAddress_AreCountedAcrossAccountsReasonsAndInstances_AndRefusedEverywherePastTheCap()
    {
        // A second API on the same database: the count lives in PostgreSQL, not in either process.
        await using var other = await Environment.StartApiAsync();
        var (a, b) = (Client, other.CreateApiClient());
        var address = ApiRequests.UniqueEmail("counted");
        var accepted = new List<string>();

        var first = await a.RegisterUserAsync(address, "first account password");
        accepted.Add("registration on A");
        for (var resend = 0; resend < 3; resend++)
        {
            Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
            var (client, name) = resend % 2 == 0 ? (b, "B") : (a, "A");
            using var response = await client.RequestNewCodeAsync(first);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
            accepted.Add($"resend on {name}");
        }

        // The account goes: a new one for the same address does not start the count again.
        using (var deleted = await a.DeleteMeAsync(first.Credentials))
        {
            deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        var changer = await a.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        using (var change = await b.PatchMeAsync(changer, new { email = address }))
        {
            change.StatusCode.Should().Be(HttpStatusCode.OK);
            accepted.Add("email change on B");
        }

        var second = await b.RegisterUserAsync(address, "second account password");
        accepted.Add("registration on B");
        while (accepted.Count < MaxCodesPerAddressPerDay)
        {
            Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
            var (client, name) = accepted.Count % 2 == 0 ? (a, "A") : (b, "B");
            using var response = await client.RequestNewCodeAsync(second);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
            accepted.Add($"resend on {name}");
        }

        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        var refused = new List<(string What, HttpResponseMessage Response)>
        {
            ("resend on A", await a.RequestNewCodeAsync(second)),
            ("resend on B", await b.RequestNewCodeAsync(second)),
        };
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime); // the second account's code is dead: its address may be taken over
        refused.Add(("registration on A", await a.RegisterAsync(address, "a third password")));
        refused.Add(("email change on B", await b.PatchMeAsync(changer, new { email = address })));

        output.WriteLine($"Accepted: {string.Join(", ", accepted)}. Then: {string.Join(", ", refused.Select(r => $"{r.What} {(int)r.Response.StatusCode}"))}.");
        (await CountAddressEventsAsync(address, "code-sent")).Should().Be(MaxCodesPerAddressPerDay);
        foreach (var (what, response) in refused)
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/too-many-requests");
            response.Headers.RetryAfter!.Delta.Should().BePositive(what).And.BeLessThanOrEqualTo(TimeSpan.FromDays(1), what);
            response.Dispose();
        }
    }

    [Fact]
    public async Task WrongCodesForOneAddress_AreCountedAcrossAccountsAndInstances_AndLockTheEmailConfirmationToo()
    {
        await using var other = await Environment.StartApiAsync();
        var (a, b) = (Client, other.CreateApiClient());
        var address = ApiRequests.UniqueEmail("guessed");

        // Ten wrong activation codes by a squatter who registered the address, on both instances.
        var squatter = await a.RegisterUserAsync(address, "squatter password");
        for (var round = 0; round < 2; round++)
        {
            var code = (await Environment.Database.GetCurrentCodeAsync(squatter.Id)).Code;
            for (var guess = 0; guess < MaxFailedAttempts; guess++)
            {
                using var wrong = await (guess % 2 == 0 ? a : b).ActivateAsync(squatter, ApiRequests.OtherThan(code));
                wrong.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
            }

            Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
            using var resend = await a.RequestNewCodeAsync(squatter);
        }

        // Then an active account asks to move to the address once the squatter's code died, and guesses ten more.
        var changer = await a.RegisterActiveUserAsync(Environment.Database);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);
        for (var round = 0; round < 2; round++)
        {
            Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
            using (var change = await b.PatchMeAsync(changer, new { email = address }))
            {
                change.StatusCode.Should().Be(HttpStatusCode.OK);
            }

            var code = (await Environment.Database.GetCurrentCodeAsync(changer.Id)).Code;
            for (var guess = 0; guess < MaxFailedAttempts; guess++)
            {
                using var wrong = await (guess % 2 == 0 ? b : a).ConfirmEmailChangeAsync(changer, ApiRequests.OtherThan(code));
                wrong.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
            }
        }

        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        using (var change = await a.PatchMeAsync(changer, new { email = address }))
        {
            change.StatusCode.Should().Be(HttpStatusCode.OK, "codes may still be sent: 5 of 10 today");
        }

        var rightCode = (await Environment.Database.GetCurrentCodeAsync(changer.Id)).Code;
        using var right = await b.ConfirmEmailChangeAsync(changer, rightCode);

        await right.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "/problems/activation-code-locked");
        right.Headers.RetryAfter!.Delta.Should().BePositive().And.BeLessThanOrEqualTo(TimeSpan.FromDays(1));
        (await CountAddressEventsAsync(address, "wrong-code")).Should().Be(MaxWrongCodesPerAddressPerDay);
    }

    [Fact]
    public async Task ARedelivery_PastTheAddressCap_SendsNothing_AndTheEventIsNotRetried()
    {
        var user = await Client.RegisterUserAsync(ApiRequests.UniqueEmail("capped"));
        for (var resend = 1; resend < MaxCodesPerAddressPerDay; resend++)
        {
            Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
            using var response = await Client.RequestNewCodeAsync(user);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        var last = await Environment.Database.GetCurrentCodeAsync(user.Id);
        Environment.Clock.Advance(ActivationDefaults.CodeLifetime);

        await Environment.Api.PublishAndWaitUntilConsumedAsync(new ActivationCodeExpiredBeforeDelivery(
            user.Id, user.Email, new DateTimeOffset(last.ExpiresAt, TimeSpan.Zero), Environment.Clock.GetUtcNow()));

        (await Environment.Database.GetCodesAsync(user.Id)).Should().HaveCount(MaxCodesPerAddressPerDay, "no eleventh code");
    }

    private async Task<long> CountAddressEventsAsync(string address, string kind)
    {
        await using var connection = await Environment.Database.OpenAsync();
        return await Dapper.SqlMapper.ExecuteScalarAsync<long>(
            connection, "SELECT count(*) FROM address_activity WHERE address_key = lower(@Address) AND kind = @Kind", new { Address = address, Kind = kind });
    }
}
