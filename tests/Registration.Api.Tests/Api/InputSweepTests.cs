using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Dapper;
using Microsoft.AspNetCore.WebUtilities;
using Registration.Api.Tests.Unit;
using Registration.Testing.PropertyTests;

namespace Registration.Api.Tests.Api;

/// <summary>
/// Malformed input against every route, over real sockets: first a table of odd Authorization headers on
/// every route, then generated requests (CsCheck) whose bodies, content types, headers, route and query
/// values and credentials run from well-formed to garbage. Whatever comes in: never a 5xx, never a stack
/// trace or SQL, every error with a body a problem document, and no row the answer does not account for:
/// a refused request changes nothing, an accepted one exactly what its route does. The route is the one
/// the router picks (<see cref="ApiRoutes"/>), not the one the generator had in mind: <c>POST /V1/USERS</c>
/// registers a user.
/// </summary>
public sealed class InputSweepTests(InputSweepTests.SweepApi api, ITestOutputHelper output) : IClassFixture<InputSweepTests.SweepApi>, IDisposable
{
    /// <summary>Real sockets (HTTP parsing as deployed), and a bcrypt queue long enough that no request is refused 503 for it.</summary>
    public sealed class SweepApi : KestrelApiFixture
    {
        protected override void Configure(TestSettings settings) => settings.Hashing(queueLimit: 100);
    }

    private const int Iterations = 2500;

    /// <summary>The CI's seed: the same requests every run (./scripts/test.sh --explore draws others).</summary>
    private const string Seed = "015_twf1P24B_wsO";

    // Placeholders the generators emit, filled in at send time with the accounts of the moment.
    private const string FreshEmail = "{{fresh-email}}";
    private const string PendingEmail = "{{pending-email}}";
    private const string PendingId = "{{pending-id}}";

    private static readonly (string Method, string Path)[] Routes =
    [
        ("POST", "/v1/users"),
        ("POST", "/v1/users/me/activation"),
        ("POST", "/v1/users/me/activation-code"),
        ("GET", "/v1/users/me"),
        ("PATCH", "/v1/users/me"),
        ("DELETE", "/v1/users/me"),
        ("POST", "/v1/users/me/email-confirmation"),
        ("GET", "/v1/users"),
        ("GET", "/v1/users/{id}"),
        ("DELETE", "/v1/users/{id}"),
        ("GET", "/health/live"),
        ("GET", "/health/ready"),
        ("GET", "/openapi/v1.json"),
        ("GET", "/docs/"),
    ];

    private static readonly string[] OddAuthorizations =
    [
        "",
        " ",
        "Basic",
        "Basic ",
        "Basic ===",
        "Basic =",
        "Basic %%%%",
        "Basic Og==", // ":"
        "Basic OjpAOjo=", // "::@::"
        "Basic dXNlckBleGFtcGxlLmNvbQ==", // no colon
        "Basic /w==", // 0xFF: not UTF-8
        "Basic AEBleGFtcGxlLnRlc3Q6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5", // "\0@example.test:correct horse battery": a NUL in the email (explore seed 4h-IrJ0vS54qr6of, 503)
        "Basic ümläut",
        "Basic " + new string('A', 12_000),
        "Basic\tdXNlcjpwYXNz",
        "BASIC dXNlckBleGFtcGxlLmNvbTpwYXNzd29yZDEyMw==",
        "Bearer",
        "Bearer ",
        "Bearer junk",
        "Bearer ключ",
        "Bearer " + new string('k', 5_000),
        "Bearer " + TestSettings.OperatorKey + " " + TestSettings.OperatorKey,
        "Digest username=\"user\"",
        "Negotiate YIIB",
        "null",
    ];

    private readonly HttpClient _client = api.CreateStreamingClient();
    private readonly List<HttpStatusCode> _statuses = [];
    private TestUser? _pending;
    private TestUser? _active;
    private int _emptyErrors;

    [Fact]
    public async Task EveryRoute_AnswersEveryOddAuthorizationHeader_WithoutAServerError_AndWithoutChangingUsers()
    {
        var failures = new List<string>();
        foreach (var (method, path) in Routes)
        {
            foreach (var authorization in OddAuthorizations.Append($"{PendingBasic}, {PendingBasic}"))
            {
                var probe = new Probe(method, path.Replace("{id}", PendingId, StringComparison.Ordinal), new Auth(AuthKind.Raw, authorization),
                    "application/json", Encoding.UTF8.GetBytes("""{"code":"0427"}"""), []);
                try
                {
                    await CheckAsync(probe);
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    failures.Add(exception.Message);
                }
            }
        }

        failures.Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(ApiRoutesTests.Cases), MemberType = typeof(ApiRoutesTests))]
    public async Task TheOraclesRoute_IsTheOneTheRouterAnswers(string method, string path, string? route)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { }) };

        using var response = await _client.SendAsync(request);

        // No credentials and an empty body: every route the router finds answers something else than 404 and 405.
        var unrouted = response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed;
        unrouted.Should().Be(route is null, "{0} {1} answered {2}", method, path, (int)response.StatusCode);
    }

    [Fact]
    [Trait("Category", "Property")]
    public async Task GeneratedRequests_NeverGet5xx_NorLeaveRowsTheAnswerDoesNotAccountFor()
    {
        await PropertyCheck.RunAsync(Requests, CheckAsync, Iterations, Seed, output.WriteLine, probe => probe.ToString());

        (await api.Database.FindPartialRecordsAsync()).Should().Be(new PartialRecords(0, 0));
        await using (var connection = await api.Database.OpenAsync())
        {
            var emails = await connection.QueryAsync<string>("SELECT email FROM users");
            var invalid = emails.Where(email => !Registration.Api.Users.EmailAddress.TryNormalize(email, out var normalized) || normalized != email);
            invalid.Should().BeEmpty("only valid, trimmed addresses are stored");
        }

        output.WriteLine($"Statuses: {Tally.Of(_statuses)}.");
        output.WriteLine($"{_emptyErrors} errors came with no body (refused by Kestrel before the API, or HEAD); every other error was a problem document.");
        _statuses.Select(status => (int)status).Should().Contain([200, 201, 204, 400, 401, 404, 415], "the generators reach the handlers, the writes, validation and authentication");
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Sends one request and checks the answer and the rows; throws with the request when something is wrong.</summary>
    private async Task CheckAsync(Probe probe)
    {
        using var request = await ToRequestAsync(probe);
        var route = ApiRoutes.Match(request.Method.Method, new Uri(_client.BaseAddress!, request.RequestUri!).AbsolutePath);
        var before = await SnapshotAsync();
        using var response = await _client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var after = await SnapshotAsync();
        var status = (int)response.StatusCode;
        _statuses.Add(response.StatusCode);
        var context = $"{probe} [route {route ?? "none"}] -> {status} {body[..Math.Min(body.Length, 300)]}";

        status.Should().BeLessThan(500, context);
        if (route != "* /metrics")
        {
            // Prometheus labels name exception types (error.type) by design; no other answer may.
            body.Should().NotContainAny(["   at ", "Npgsql", "Exception", "SELECT ", "INSERT "], context);
        }

        if (status >= 400 && body.Length == 0)
        {
            // Kestrel itself refuses some requests (a NUL in the path, a header it cannot read) before the API sees them.
            _emptyErrors++;
        }
        else if (status >= 400)
        {
            response.Content.Headers.ContentType?.MediaType.Should().Be(ProblemAssertions.ProblemJson, context);
            JsonDocument.Parse(body).RootElement.GetProperty("type").GetString().Should().StartWith("/problems/", context);
        }

        CheckRows(route, status, before, after, context);
        if (status is >= 200 and < 300 && route is "POST /v1/users/me/activation" or "PATCH /v1/users/me" or "DELETE /v1/users/me" or "DELETE /v1/users/{id}"
            or "POST /v1/users/me/email-confirmation")
        {
            // The request may have changed or removed an account the sweep signs in with: fresh ones next time.
            (_pending, _active) = (null, null);
        }
    }

    /// <summary>Rows a request may add or remove: none for an error, exactly what its route does for a success.</summary>
    private static void CheckRows(string? route, int status, Snapshot before, Snapshot after, string context)
    {
        var (users, codes, outbox) = (after.Users - before.Users, after.Codes - before.Codes, after.Outbox - before.Outbox);
        if (status >= 300)
        {
            after.Should().Be(before, $"a refused request writes nothing: {context}");
            return;
        }

        switch (route)
        {
            case "POST /v1/users":
                (users, codes, outbox).Should().Be((1L, 1L, 1L), context);
                break;
            case "POST /v1/users/me/activation-code":
                (users, codes, outbox).Should().Be((0L, 1L, 1L), context);
                break;
            case "PATCH /v1/users/me":
                users.Should().Be(0, context);
                codes.Should().BeInRange(0, 1, context);
                outbox.Should().Be(codes, context);
                break;
            case "POST /v1/users/me/activation":
                (users, codes, outbox).Should().Be((0L, 0L, 0L), context);
                break;
            case "POST /v1/users/me/email-confirmation":
                // The notice to the old address; a replaced pending holder of the new one goes with its rows.
                users.Should().BeInRange(-1, 0, context);
                outbox.Should().BeLessThanOrEqualTo(1, context);
                break;
            case "DELETE /v1/users/me" or "DELETE /v1/users/{id}":
                users.Should().Be(-1, context);
                codes.Should().BeLessThanOrEqualTo(0, context);
                outbox.Should().BeLessThanOrEqualTo(0, context);
                break;
            default:
                after.Should().Be(before, $"{route ?? "no route"} writes nothing: {context}");
                break;
        }
    }

    /// <summary>
    /// Row counts, and a digest of every user row: any insert, update or delete of a user changes it. Outbox rows of
    /// a deleted account are not counted: the deletion leaves the one a publish holds, and the dispatcher deletes it
    /// whenever it next claims it, in the middle of a later request (docs/reliability.md, known limits).
    /// </summary>
    private async Task<Snapshot> SnapshotAsync()
    {
        await using var connection = await api.Database.OpenAsync();
        return await connection.QuerySingleAsync<Snapshot>(
            """
            SELECT (SELECT count(*) FROM users) AS users,
                   (SELECT count(*) FROM activation_codes) AS codes,
                   (SELECT count(*) FROM outbox_messages o
                    WHERE o.user_id IS NULL OR EXISTS (SELECT FROM users u WHERE u.id = o.user_id)) AS outbox,
                   (SELECT coalesce(md5(string_agg(id::text || email || status || password_hash || coalesce(activated_at::text, '') || coalesce(pending_email, ''), ',' ORDER BY id)), '')
                    FROM users) AS users_digest
            """);
    }

    private sealed record Snapshot(long Users, long Codes, long Outbox, string UsersDigest);

    // ---- The accounts whose credentials the requests use ------------------------------------------

    private const string PendingBasic = "{{pending-basic}}";

    private async Task<TestUser> PendingAsync() => _pending ??= await _client.RegisterUserAsync(ApiRequests.UniqueEmail("sweep-pending"));

    private async Task<TestUser> ActiveAsync() => _active ??= await _client.RegisterActiveUserAsync(api.Database, ApiRequests.UniqueEmail("sweep-active"));

    private async Task<HttpRequestMessage> ToRequestAsync(Probe probe)
    {
        var pending = await PendingAsync();
        string Fill(string text) => text
            .Replace(FreshEmail, ApiRequests.UniqueEmail("sweep"), StringComparison.Ordinal)
            .Replace(PendingEmail, pending.Email, StringComparison.Ordinal)
            .Replace(PendingId, pending.Id.ToString(), StringComparison.Ordinal)
            .Replace(PendingBasic, pending.Credentials.ToString(), StringComparison.Ordinal);

        var request = new HttpRequestMessage(new HttpMethod(probe.Method), Fill(probe.Path));
        var authorization = probe.Auth.Kind switch
        {
            AuthKind.None => null,
            AuthKind.Raw => Fill(probe.Auth.Raw!),
            AuthKind.PendingUser => pending.Credentials.ToString(),
            AuthKind.ActiveUser => (await ActiveAsync()).Credentials.ToString(),
            AuthKind.WrongPassword => BasicAuth.Header(pending.Email, "wrong password!").ToString(),
            _ => ApiRequests.OperatorCredentials.ToString(),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        foreach (var (name, value) in probe.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (probe.Body is not null || probe.ContentType is not null)
        {
            var body = probe.Body ?? [];
            var text = Encoding.UTF8.GetString(body);
            request.Content = new ByteArrayContent(text.Contains("{{", StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(Fill(text)) : body);
            if (probe.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", probe.ContentType);
            }
        }

        return request;
    }

    // ---- Generators -------------------------------------------------------------------------------

    private static readonly Gen<string> Printable = Gen.Char[' ', '~'].Array[0, 24].Select(chars => new string(chars));

    /// <summary>Any text that can go in a header: no CR, LF or NUL (the client refuses those).</summary>
    private static readonly Gen<string> HeaderText =
        Gen.String[0, 40].Select(text => new string(text.Where(c => c is not ('\r' or '\n' or '\0')).ToArray()));

    private static readonly Gen<string> AnyText = Gen.Frequency(
        (3, Gen.String[0, 24]),
        (3, Printable),
        (1, Gen.OneOf("", " ", "\t", "null", "0", "-1", "💥", "é", "\u0000", "\ud800", "a\u200bb", "%00", "../..", "' OR 1=1 --", "<script>")),
        (1, Gen.Int[250, 5000].Select(length => new string('x', length))));

    private static readonly Gen<string> Emails = Gen.Frequency(
        (4, Gen.Char['a', 'z'].Array[1, 12].Select(local => $"sweep-{new string(local)}@example.test")),
        (2, Gen.OneOf(
            "", " ", "a@b", "a@b.", "@b.c", "a@", "a@@b.c", "a@b..c", "a b@c.d", "a\u0000@b.c", "a@b.c\n", "A@EXAMPLE.TEST",
            "  padded@example.test  ", "ünïcødé@exämple.test", "a@b@c.d", ".@.", "a@.b", "x@y", "é@例え.jp",
            FreshEmail, " " + FreshEmail + " ", PendingEmail,
            new string('l', 64) + "@" + new string('d', 185) + ".test", // 254
            new string('l', 64) + "@" + new string('d', 186) + ".test")), // 255
        (2, Gen.Select(AnyText, AnyText, (local, domain) => $"{local}@{domain}")),
        (1, AnyText));

    private static readonly Gen<string> Passwords = Gen.Frequency(
        (2, Gen.Const(ApiRequests.DefaultPassword)),
        (3, Gen.OneOf(
            "", "1234567", "12345678", new string('a', 72), new string('a', 73), new string('é', 36), new string('é', 37),
            string.Concat(Enumerable.Repeat("😀", 18)), string.Concat(Enumerable.Repeat("😀", 7)), "🔑🔑🔑🔑🔑🔑🔑🔑",
            new string('\0', 8), "\ud800abcdefghi", "        ", "pass:word:with:colons")),
        (3, AnyText));

    private static readonly Gen<string> Codes = Gen.Frequency(
        (3, Gen.Int[0, 9999].Select(code => code.ToString("D4", CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("", "042", "04270", "abcd", "０４２７", "٠٤٢٧", " 0427", "0427 ", "04 27", "-427", "+427", "4.27", "0x1F", "0427\u0000")),
        (1, AnyText));

    private static readonly Gen<JsonNode?> Scalars = Gen.Frequency(
        (3, AnyText.Select(text => (JsonNode?)JsonValue.Create(text))),
        (1, Gen.Long.Select(number => (JsonNode?)JsonValue.Create(number))),
        (1, Gen.Double.Where(double.IsFinite).Select(number => (JsonNode?)JsonValue.Create(number))),
        (1, Gen.Bool.Select(flag => (JsonNode?)JsonValue.Create(flag))),
        (1, Null<JsonNode>()));

    private static readonly Gen<string> Keys = Gen.Frequency(
        (3, Gen.OneOf("email", "password", "code", "Email", "PASSWORD", "Code", "id", "status", "__proto__", "")),
        (1, AnyText));

    private static Gen<string> JsonText(int depth) => depth == 0
        ? Gen.Frequency(
            (4, Scalars.Select(Serialize)),
            (1, Gen.OneOf("-0", "1e400", "123456789012345678901234567890", "NaN", "[]", "{}", "\"\\ud800\"", "\"\\x41\"", "\"unterminated", "'single'")))
        : Gen.Frequency(
            (3, JsonText(0)),
            (1, JsonText(depth - 1).Array[0, 4].Select(items => $"[{string.Join(',', items)}]")),
            (2, Gen.Select(Keys, JsonText(depth - 1)).Array[0, 4].Select(Object)));

    /// <summary>The fields the routes read, each present or not, each with a value from valid to absurd.</summary>
    private static readonly Gen<string> TargetedJson = Gen.Select(
        Gen.Frequency((3, Emails.Select(Quote)), (1, JsonText(1)), (2, Null<string>())),
        Gen.Frequency((3, Passwords.Select(Quote)), (1, JsonText(1)), (2, Null<string>())),
        Gen.Frequency((3, Codes.Select(Quote)), (1, JsonText(1)), (2, Null<string>())),
        (email, password, code) => Object(
            new[] { ("email", email), ("password", password), ("code", code) }.Where(field => field.Item2 is not null).ToArray()!));

    /// <summary>Bodies of the right shape with mostly good values, to get past the rules into the writes.</summary>
    private static readonly Gen<string> WellShapedJson = Gen.Select(
        Gen.OneOf(FreshEmail, FreshEmail, FreshEmail, PendingEmail, " " + FreshEmail + " ", "x@y", "é@例え.jp"),
        Gen.OneOf(ApiRequests.DefaultPassword, ApiRequests.DefaultPassword, "12345678", new string('é', 36), new string('é', 37), "1234567"),
        Codes,
        Gen.Int[0, 5],
        (email, password, code, shape) => shape switch
        {
            <= 2 => JsonSerializer.Serialize(new { email, password }),
            3 => JsonSerializer.Serialize(new { code }),
            4 => JsonSerializer.Serialize(new { email }),
            _ => JsonSerializer.Serialize(new { password }),
        });

    private static readonly Gen<byte[]?> Bodies = Gen.Frequency(
        (2, Null<byte[]>()),
        (1, Gen.Byte.Array[0, 300].Select(bytes => (byte[]?)bytes)),
        (1, AnyText.Select(Utf8)),
        (3, JsonText(3).Select(Utf8)),
        (6, TargetedJson.Select(Utf8)),
        (5, WellShapedJson.Select(Utf8)),
        (1, Gen.Select(TargetedJson, Gen.Int[0, 100], (json, cut) => Utf8(json[..(json.Length * cut / 100)]))),
        (1, Gen.Int[1, 300].Select(depth => Utf8(new string('[', depth) + new string(']', depth)))),
        (1, Gen.Int[3_900, 6_000].Select(size => Utf8($$"""{"email":"{{FreshEmail}}",{{new string(' ', size)}}"password":"correct horse battery"}"""))),
        (1, Gen.OneOf<byte[]?>([], [0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}'], Encoding.Unicode.GetBytes("""{"code":"0427"}"""))));

    private static readonly Gen<string?> ContentTypes = Gen.Frequency(
        (6, Gen.Const<string?>("application/json")),
        (4, Gen.OneOf<string?>(
            null, "application/json; charset=utf-8", "application/json; charset=utf-16", "application/json; charset=bogus",
            "application/json; charset=latin1", "application/json; charset=\"", "application/json;charset=\"", "application/problem+json",
            "application/merge-patch+json", "application/vnd.api+json", "text/plain", "text/json", "application/xml",
            "multipart/form-data; boundary=x", "multipart/form-data", "application/x-www-form-urlencoded", "*/*", "json", "", ";",
            "application/json;;;", "APPLICATION/JSON", "application/jsonx")),
        (1, HeaderText.Select(text => (string?)text)));

    private static readonly Gen<Auth> Authorizations = Gen.Frequency(
        (3, Gen.Const(new Auth(AuthKind.None, null))),
        (4, Gen.OneOf(AuthKind.PendingUser, AuthKind.ActiveUser, AuthKind.WrongPassword).Select(kind => new Auth(kind, null))),
        (1, Gen.Const(new Auth(AuthKind.Operator, null))),
        (2, Gen.OneOf(OddAuthorizations).Select(raw => new Auth(AuthKind.Raw, raw))),
        (1, Gen.OneOf($"{PendingBasic}, {PendingBasic}", "bearer " + TestSettings.OperatorKey).Select(raw => new Auth(AuthKind.Raw, raw))),
        (3, Gen.Select(Gen.Frequency((3, Emails), (1, AnyText)), Gen.Frequency((2, Passwords), (1, AnyText)), Gen.OneOf(":", "", "::"),
            (email, password, colon) => new Auth(AuthKind.Raw, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(email + colon + password))))),
        (1, Gen.Byte.Array[0, 80].Select(bytes => new Auth(AuthKind.Raw, "Basic " + Convert.ToBase64String(bytes)))),
        (2, Gen.Select(Gen.OneOf("Basic", "basic", "BASIC", "Bearer", "bearer", "Digest", "", "Basic  "), Gen.Frequency((2, Printable), (1, HeaderText)),
            (scheme, value) => new Auth(AuthKind.Raw, $"{scheme} {value}"))),
        (1, Gen.Int[2_000, 3_000].Select(length => new Auth(AuthKind.Raw, "Basic " + new string('A', length)))));

    private static readonly Gen<string> RouteIds = Gen.Frequency(
        (3, Gen.Const(PendingId)),
        (2, Gen.Guid.Select(id => id.ToString())),
        (3, AnyText.Where(text => text.Length > 0).Select(Uri.EscapeDataString)),
        (2, Gen.OneOf(
            "..", "%2e%2e", "%00", "%01", "%2F", "%252F", "~", "%E2%98%83", "%20", "a%20b", "me", "ME", "0", "1", "-1", "null",
            "00000000-0000-0000-0000-000000000000", "{6f1f0c55-0000-0000-0000-000000000001}", "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
            "3f2504e04f8941d39a0c0305e82c3301", "3f2504e0-4f89-41d3-9a0c-0305e82c330", new string('9', 2_000))));

    private static readonly Gen<string> Queries = Gen.Frequency(
        (1, Gen.Const(string.Empty)),
        (2, Gen.Select(
            Gen.Frequency((2, Null<string>()), (2, Gen.OneOf<string?>("pending", "active", "", "PENDING", "deleted", "foo")), (1, AnyText.Select(t => (string?)t))),
            Gen.Frequency((2, Null<string>()), (2, Gen.OneOf<string?>("0", "1", "20", "100", "101", "-1", "abc", "1e3", "99999999999999999999", " 5")), (1, AnyText.Select(t => (string?)t))),
            Gen.Frequency((2, Null<string>()), (2, Gen.Byte.Array[0, 40].Select(bytes => (string?)WebEncoders.Base64UrlEncode(bytes))), (1, AnyText.Select(t => (string?)t))),
            (status, limit, after) => string.Join('&', new[] { ("status", status), ("limit", limit), ("after", after) }
                .Where(part => part.Item2 is not null).Select(part => $"{part.Item1}={Uri.EscapeDataString(part.Item2!)}")))),
        (1, Gen.Select(Gen.OneOf("status", "limit", "after", "STATUS", "Limit", "x", "", "limit[]"), Gen.OneOf("%205", "null", "%zz", "%", ""),
            (name, value) => $"{name}={value}").Array[1, 3].Select(pairs => string.Join('&', pairs))));

    /// <summary>How often each route is drawn: the writes most, the read-only documents least.</summary>
    private static readonly int[] RouteWeights = [8, 5, 3, 3, 6, 2, 4, 3, 3, 2, 1, 1, 1, 1];

    private static readonly Gen<(string Method, string Path)> Paths = Gen.Frequency(
        (13, Gen.Frequency<(string Method, string Path)>([.. Routes.Zip(RouteWeights, (route, weight) => (weight, route))])),
        (2, Gen.Select(
            Gen.OneOf("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"),
            Gen.Frequency(
                (3, Gen.OneOf(Routes).Select(route => route.Path)),
                (2, Gen.OneOf("/", "/v1", "/v2/users", "/V1/USERS", "/v1/users/", "/V1/Users/ME", "/v1/users/me/", "/v1/users/me/activation/extra",
                    "/v1//users", "/v1/users/./me", "/v1/users/me/../me", "/docs", "/DOCS/", "/metrics"))),
            (method, path) => (method, path))),
        (1, AnyText.Select(text => ("GET", "/" + Uri.EscapeDataString(text)))));

    private static readonly Gen<(string Name, string Value)[]> ExtraHeaders = Gen.Select(
        Gen.OneOf("X-Forwarded-For", "X-Forwarded-Proto", "Accept", "Accept-Charset", "Content-Encoding", "X-Http-Method-Override", "Origin", "Cookie"),
        Gen.Frequency(
            (2, Gen.OneOf("1.2.3.4, garbage", "garbage", "1.2.3.4", "::1", "999.999.999.999", "unknown", "gzip", "DELETE", "*/*",
                "application/json", "text/html", "application/xml", "text/html;q=abc", "\"", ";;;", "")),
            (1, Printable)),
        (name, value) => (name, value)).Array[0, 2];

    private static readonly Gen<Probe> Requests = Gen.Select(Paths, RouteIds, Queries, Authorizations, ContentTypes, Bodies, ExtraHeaders,
        (route, id, query, auth, contentType, body, headers) => new Probe(
            route.Method,
            route.Path.Replace("{id}", id, StringComparison.Ordinal) + (query.Length == 0 ? string.Empty : "?" + query),
            auth,
            contentType,
            body,
            headers));

    private static Gen<T?> Null<T>()
        where T : class
    {
        T? nothing = null;
        return Gen.Const(nothing);
    }

    private static string Serialize(JsonNode? node) => node?.ToJsonString() ?? "null";

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    /// <summary>A JSON object from raw member texts: duplicate names stay (the parser must cope).</summary>
    private static string Object((string Name, string Value)[] members) =>
        "{" + string.Join(',', members.Select(member => $"{Quote(member.Name)}:{member.Value}")) + "}";

    private static byte[]? Utf8(string text) => Encoding.UTF8.GetBytes(text);

    // ---- Requests ---------------------------------------------------------------------------------

    private enum AuthKind
    {
        None,
        Raw,
        PendingUser,
        ActiveUser,
        WrongPassword,
        Operator,
    }

    private sealed record Auth(AuthKind Kind, string? Raw);

    /// <summary>One generated request, with placeholders for the accounts of the moment.</summary>
    private sealed record Probe(string Method, string Path, Auth Auth, string? ContentType, byte[]? Body, (string Name, string Value)[] Headers)
    {
        public override string ToString()
        {
            var body = Body is null ? "no body" : Body.Length > 200 ? $"{Body.Length} bytes" : JsonSerializer.Serialize(Encoding.UTF8.GetString(Body));
            var auth = Auth.Kind == AuthKind.Raw ? $"Authorization: {Truncate(Auth.Raw!)}" : $"auth {Auth.Kind}";
            var headers = string.Concat(Headers.Select(header => $", {header.Name}: {header.Value}"));
            return $"{Method} {Truncate(Path)} [{auth}, Content-Type: {ContentType ?? "none"}{headers}] {body}";
        }

        private static string Truncate(string text) => text.Length <= 120 ? text : $"{text[..120]}… ({text.Length} chars)";
    }
}
