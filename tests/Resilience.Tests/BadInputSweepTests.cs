using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Dapper;
using Xunit.Abstractions;

namespace Resilience.Tests;

/// <summary>
/// Scenario 7. Generated requests (CsCheck) against every route: bodies, content types, headers, route
/// and query values, and Basic credentials, from well-formed to garbage. Never a 5xx, every error a
/// problem document without internals, and no row that the answer does not account for.
/// </summary>
public sealed class BadInputSweepTests(TestEnvironment environment, ITestOutputHelper output) : IClassFixture<TestEnvironment>
{
    private const int Iterations = 2000;

    [Fact]
    public async Task GeneratedRequests_NeverGet5xx_NorLeaveUnexpectedRows()
    {
        await using var api = await environment.StartApiAsync(settings => settings.Hashing(queueLimit: 100), overHttp: true);
        using var client = api.CreateApiClient();
        var accounts = new Accounts(client, environment.Database);
        await accounts.InitializeAsync();
        var statuses = new Dictionary<int, int>();
        var created = 0;
        var emptyErrors = 0;

        await RequestGen.SampleAsync(
            async probe =>
            {
                // The request first: resolving its credentials may create an account.
                using var request = await probe.ToRequestAsync(accounts);
                var before = await CountRowsAsync();
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                var after = await CountRowsAsync();
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                var context = $"{probe} -> {status} {body[..Math.Min(body.Length, 300)]}";

                status.Should().BeLessThan(500, context);
                if (status >= 400 && body.Length == 0)
                {
                    // Kestrel itself refuses some requests (a NUL in the path, ...) before the API sees them.
                    emptyErrors++;
                }
                else if (status >= 400)
                {
                    response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json", context);
                    JsonDocument.Parse(body).RootElement.GetProperty("type").GetString().Should().StartWith("/problems/", context);
                }

                body.Should().NotContainAny(["   at ", "Npgsql", "Exception", "SELECT ", "INSERT "], context);
                CheckRows(probe, status, before, after, context);
                if (probe.Route == "POST /v1/users" && status == 201)
                {
                    created++;
                }

                await accounts.RepairAsync(probe, status);
            },
            iter: Iterations,
            threads: 1,
            print: probe => probe.ToString(),
            writeLine: output.WriteLine);

        var partial = await environment.Database.FindPartialRecordsAsync();
        partial.Should().Be(new PartialRecords(0, 0));
        await using (var connection = await environment.Database.OpenAsync())
        {
            var emails = await connection.QueryAsync<string>("SELECT email FROM users");
            var invalid = emails.Where(email => !Registration.Api.Users.EmailAddress.TryNormalize(email, out var normalized) || normalized != email);
            invalid.Should().BeEmpty("only valid, trimmed addresses are stored");
        }

        output.WriteLine($"{Iterations} generated requests: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} x{s.Value}"))}.");
        output.WriteLine($"{emptyErrors} errors came with no body (refused by Kestrel before the API, or HEAD); every other error was a problem document.");
        output.WriteLine($"Counts: sent {Iterations}, 5xx 0, unexpected rows 0, accounts created by valid sign-ups {created}, lost 0.");
    }

    /// <summary>Rows a request may add or remove: none for an error, exactly what its route does for a success.</summary>
    private static void CheckRows(Probe probe, int status, Rows before, Rows after, string context)
    {
        var users = after.Users - before.Users;
        var codes = after.Codes - before.Codes;
        var outbox = after.Outbox - before.Outbox;
        if (status >= 300)
        {
            (users, codes, outbox).Should().Be((0L, 0L, 0L), $"a rejected request writes nothing: {context}");
            return;
        }

        switch (probe.Route)
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
            case "DELETE /v1/users/me" or "DELETE /v1/users/{id}":
                users.Should().Be(-1, context);
                codes.Should().BeLessThanOrEqualTo(0, context);
                outbox.Should().BeLessThanOrEqualTo(0, context);
                break;
            default:
                (users, codes, outbox).Should().Be((0L, 0L, 0L), context);
                break;
        }
    }

    private async Task<Rows> CountRowsAsync()
    {
        await using var connection = await environment.Database.OpenAsync();
        return await connection.QuerySingleAsync<Rows>(
            "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM activation_codes) AS codes, (SELECT count(*) FROM outbox_messages) AS outbox");
    }

    private sealed record Rows(long Users, long Codes, long Outbox);

    // ---- Generators -------------------------------------------------------------------------------------

    private static readonly Gen<string> Printable = Gen.Char[' ', '~'].Array[0, 24].Select(chars => new string(chars));

    private static readonly Gen<string> AnyText = Gen.Frequency(
        (3, Gen.String[0, 24]),
        (3, Printable),
        (1, Gen.OneOf("", " ", "\t", "null", "0", "-1", "💥", "é", "\u0000", "\ud800", "a\u200bb", "%00", "../..", "' OR 1=1 --", "<script>")),
        (1, Gen.Int[250, 5000].Select(length => new string('x', length))));

    private static readonly Gen<string> Emails = Gen.Frequency(
        (4, Gen.Char['a', 'z'].Array[1, 12].Select(local => $"sweep-{new string(local)}@example.test")),
        (2, Gen.OneOf(
            "", " ", "a@b", "a@b.", "@b.c", "a@", "a@@b.c", "a@b..c", "a b@c.d", "a\u0000@b.c", "a@b.c\n", "A@EXAMPLE.TEST",
            "  padded@example.test  ", "ünïcødé@exämple.test", "a@b@c.d", ".@.", "a@.b",
            new string('l', 64) + "@" + new string('d', 185) + ".test", // 254
            new string('l', 64) + "@" + new string('d', 186) + ".test")), // 255
        (2, Gen.Select(AnyText, AnyText, (local, domain) => $"{local}@{domain}")),
        (1, AnyText));

    private static readonly Gen<string> Passwords = Gen.Frequency(
        (2, Gen.Const(ApiRequests.DefaultPassword)),
        (3, Gen.OneOf(
            "", "1234567", "12345678", new string('a', 72), new string('a', 73), string.Concat(Enumerable.Repeat("é", 36)),
            string.Concat(Enumerable.Repeat("é", 37)), string.Concat(Enumerable.Repeat("😀", 18)), string.Concat(Enumerable.Repeat("😀", 7)),
            new string('\0', 8), "\ud800abcdefghi", "        ", "pass:word:with:colons")),
        (3, AnyText));

    private static readonly Gen<string> Codes = Gen.Frequency(
        (3, Gen.Int[0, 9999].Select(code => code.ToString("D4", CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("", "042", "04270", "abcd", "０４２７", "٠٤٢٧", " 0427", "0427 ", "-427", "+427", "4.27", "0x1F", "0427\u0000")),
        (1, AnyText));

    private static readonly Gen<JsonNode?> Scalars = Gen.Frequency(
        (3, AnyText.Select(text => (JsonNode?)JsonValue.Create(text))),
        (1, Gen.Long.Select(number => (JsonNode?)JsonValue.Create(number))),
        (1, Gen.Double.Where(double.IsFinite).Select(number => (JsonNode?)JsonValue.Create(number))),
        (1, Gen.Bool.Select(flag => (JsonNode?)JsonValue.Create(flag))),
        (1, Null<JsonNode>()));

    private static readonly Gen<string> Keys = Gen.Frequency(
        (3, Gen.OneOf("email", "password", "code", "Email", "PASSWORD", "Code", "id", "status")),
        (1, AnyText));

    private static Gen<string> JsonText(int depth) => depth == 0
        ? Scalars.Select(Serialize)
        : Gen.Frequency(
            (3, Scalars.Select(Serialize)),
            (1, JsonText(depth - 1).Array[0, 4].Select(items => $"[{string.Join(',', items)}]")),
            (2, Gen.Select(Keys, JsonText(depth - 1)).Array[0, 4].Select(Object)));

    /// <summary>The fields the routes read, each present or not, each with a value from valid to absurd.</summary>
    private static readonly Gen<string> TargetedJson = Gen.Select(
        Gen.Frequency((3, Emails.Select(Quote)), (1, JsonText(1)), (2, Null<string>())),
        Gen.Frequency((3, Passwords.Select(Quote)), (1, JsonText(1)), (2, Null<string>())),
        Gen.Frequency((3, Codes.Select(Quote)), (1, JsonText(1)), (2, Null<string>())),
        (email, password, code) => Object(
            new[] { ("email", email), ("password", password), ("code", code) }.Where(field => field.Item2 is not null).ToArray()));

    private static readonly Gen<byte[]?> Bodies = Gen.Frequency(
        (2, Null<byte[]>()),
        (1, Gen.Byte.Array[0, 300].Select(bytes => (byte[]?)bytes)),
        (1, AnyText.Select(Utf8)),
        (3, JsonText(3).Select(Utf8)),
        (6, TargetedJson.Select(Utf8)),
        (1, Gen.Select(TargetedJson, Gen.Int[0, 100], (json, cut) => Utf8(json[..(json.Length * cut / 100)]))),
        (1, Gen.Int[60, 200].Select(depth => Utf8(new string('[', depth) + new string(']', depth)))),
        (1, Gen.Int[4_000, 6_000].Select(length => Utf8($$"""{"email":"{{new string('a', length)}}@example.test","password":"x"}"""))));

    private static readonly Gen<string?> ContentTypes = Gen.Frequency(
        (6, Gen.Const<string?>("application/json")),
        (3, Gen.OneOf<string?>(
            null, "application/json; charset=utf-8", "application/json; charset=utf-16", "application/json; charset=latin1", "text/plain",
            "application/x-www-form-urlencoded", "application/problem+json", "application/merge-patch+json", "*/*", "application/json;charset=\"",
            "multipart/form-data; boundary=x", "application/jsonx")),
        (1, Printable.Select(text => (string?)text)));

    private static readonly Gen<AuthSpec> Authorizations = Gen.Frequency(
        (3, Gen.Const(new AuthSpec(AuthKind.None, null))),
        (3, Gen.OneOf(AuthKind.PendingUser, AuthKind.ActiveUser, AuthKind.WrongPassword).Select(kind => new AuthSpec(kind, null))),
        (1, Gen.Const(new AuthSpec(AuthKind.Admin, null))),
        (3, Gen.Select(Gen.Frequency((3, Emails), (1, AnyText)), Gen.Frequency((2, Passwords), (1, AnyText)), Gen.OneOf(":", "", "::"),
            (email, password, colon) => new AuthSpec(AuthKind.Raw, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(email + colon + password))))),
        (1, Gen.Byte.Array[0, 60].Select(bytes => new AuthSpec(AuthKind.Raw, "Basic " + Convert.ToBase64String(bytes)))),
        (2, Gen.Select(Gen.OneOf("Basic", "basic", "BASIC", "Bearer", "bearer", "Digest", "", "Basic  "), Printable,
            (scheme, value) => new AuthSpec(AuthKind.Raw, $"{scheme} {value}"))),
        (1, Gen.Int[2_000, 3_000].Select(length => new AuthSpec(AuthKind.Raw, "Basic " + new string('A', length)))));

    private static readonly Gen<string> RouteIds = Gen.Frequency(
        (2, Gen.Guid.Select(id => id.ToString())),
        (1, Gen.Const(AccountsPlaceholder)),
        (3, AnyText.Where(text => text.Length > 0).Select(Uri.EscapeDataString)),
        (1, Gen.OneOf("..", "%2e%2e", "%00", "%2F", "me", "00000000-0000-0000-0000-000000000000", "{6f1f0c55-0000-0000-0000-000000000001}", "1", "-1")));

    private static readonly Gen<string> Queries = Gen.Select(
        Gen.Frequency((2, Null<string>()), (2, Gen.OneOf<string?>("pending", "active", "", "PENDING", "deleted")), (1, AnyText.Select(t => (string?)t))),
        Gen.Frequency((2, Null<string>()), (2, Gen.OneOf<string?>("0", "1", "100", "101", "-1", "abc", "1e3", "99999999999999999999", " 5")), (1, AnyText.Select(t => (string?)t))),
        Gen.Frequency((2, Null<string>()), (2, Gen.Byte.Array[0, 30].Select(bytes => (string?)Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_'))), (1, AnyText.Select(t => (string?)t))),
        (status, limit, after) => string.Join('&', new[] { ("status", status), ("limit", limit), ("after", after) }
            .Where(part => part.Item2 is not null).Select(part => $"{part.Item1}={Uri.EscapeDataString(part.Item2!)}")));

    private static readonly Gen<(string Method, string Route, string Path)> Routes = Gen.Frequency(
        (4, Gen.Const(("POST", "POST /v1/users", "/v1/users"))),
        (3, Gen.Const(("POST", "POST /v1/users/me/activation", "/v1/users/me/activation"))),
        (2, Gen.Const(("POST", "POST /v1/users/me/activation-code", "/v1/users/me/activation-code"))),
        (2, Gen.Const(("GET", "GET /v1/users/me", "/v1/users/me"))),
        (3, Gen.Const(("PATCH", "PATCH /v1/users/me", "/v1/users/me"))),
        (1, Gen.Const(("DELETE", "DELETE /v1/users/me", "/v1/users/me"))),
        (2, Queries.Select(query => ("GET", "GET /v1/users", query.Length == 0 ? "/v1/users" : "/v1/users?" + query))),
        (2, RouteIds.Select(id => ("GET", "GET /v1/users/{id}", "/v1/users/" + id))),
        (1, RouteIds.Where(id => id != AccountsPlaceholder).Select(id => ("DELETE", "DELETE /v1/users/{id}", "/v1/users/" + id))),
        (1, Gen.OneOf("/health/live", "/health/ready", "/openapi/v1.json", "/docs").Select(path => ("GET", "GET " + path, path))),
        (2, Gen.Select(
            Gen.OneOf("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"),
            Gen.OneOf("/v1/users", "/v1/users/me", "/v1/users/me/activation", "/v1/users/me/activation-code", "/health/live", "/", "/v1",
                "/v1/users/me/activation/extra", "/v2/users", "/V1/USERS"),
            (method, path) => (method, $"{method} {path}", path))),
        (1, AnyText.Select(path => ("GET", "GET /{random}", "/" + Uri.EscapeDataString(path)))));

    private static readonly Gen<(string Name, string Value)[]> ExtraHeaders = Gen.Select(
        Gen.OneOf("X-Forwarded-For", "X-Forwarded-Proto", "Accept", "Accept-Charset", "Content-Encoding", "X-Http-Method-Override", "Origin", "Cookie"),
        Gen.Frequency((1, Gen.OneOf("1.2.3.4, garbage", "::1", "gzip", "DELETE", "*/*", "text/html;q=abc", "\"")), (1, Printable)),
        (name, value) => (name, value)).Array[0, 2];

    private static readonly Gen<Probe> RequestGen = Gen.Select(Routes, Authorizations, ContentTypes, Bodies, ExtraHeaders,
        (route, auth, contentType, body, headers) => new Probe(route.Method, route.Route, route.Path, auth, contentType, body, headers));

    private const string AccountsPlaceholder = "{pending-user-id}";

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

    // ---- Requests ---------------------------------------------------------------------------------------

    private enum AuthKind
    {
        None,
        Raw,
        PendingUser,
        ActiveUser,
        WrongPassword,
        Admin,
    }

    private sealed record AuthSpec(AuthKind Kind, string? Raw);

    private sealed record Probe(
        string Method, string Route, string Path, AuthSpec Auth, string? ContentType, byte[]? Body, (string Name, string Value)[] Headers)
    {
        public async Task<HttpRequestMessage> ToRequestAsync(Accounts accounts)
        {
            var request = new HttpRequestMessage(new HttpMethod(Method), Path.Replace(AccountsPlaceholder, accounts.Pending.Id.ToString(), StringComparison.Ordinal));
            var authorization = Auth.Kind switch
            {
                AuthKind.None => null,
                AuthKind.Raw => Auth.Raw,
                AuthKind.PendingUser => accounts.Pending.Credentials.ToString(),
                AuthKind.ActiveUser => (await accounts.ActiveAsync()).Credentials.ToString(),
                AuthKind.WrongPassword => BasicAuth.Header(accounts.Pending.Email, "wrong password!").ToString(),
                _ => ApiRequests.OperatorCredentials.ToString(),
            };
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            foreach (var (name, value) in Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            if (Body is not null || ContentType is not null)
            {
                request.Content = new ByteArrayContent(Body ?? []);
                request.Content.Headers.ContentType = null;
                if (ContentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            return request;
        }

        public override string ToString()
        {
            var body = Body is null ? "no body" : Body.Length > 200 ? $"{Body.Length} bytes" : JsonSerializer.Serialize(Encoding.UTF8.GetString(Body));
            var auth = Auth.Kind == AuthKind.Raw ? $"Authorization: {Truncate(Auth.Raw!)}" : $"auth {Auth.Kind}";
            var headers = string.Concat(Headers.Select(header => $", {header.Name}: {header.Value}"));
            return $"{Method} {Truncate(Path)} [{auth}, Content-Type: {ContentType ?? "none"}{headers}] {body}";
        }

        private static string Truncate(string text) => text.Length <= 120 ? text : $"{text[..120]}… ({text.Length} chars)";
    }

    /// <summary>
    /// The accounts whose valid credentials the sweep uses. A request may legitimately change or delete one
    /// (a valid PATCH, DELETE or activation): it is then replaced by a fresh one, outside the measured request.
    /// </summary>
    private sealed class Accounts(HttpClient client, TestDatabase database)
    {
        private TestUser? _active;

        public TestUser Pending { get; private set; } = null!;

        public async Task InitializeAsync() => Pending = await RegisterAsync("sweep-pending");

        public async Task<TestUser> ActiveAsync()
        {
            if (_active is null)
            {
                var user = await RegisterAsync("sweep-active");
                var code = (await database.GetLatestCodesAsync([user.Id]))[user.Id].Code;
                using var response = await client.ActivateAsync(user, code);
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                _active = user;
            }

            return _active;
        }

        public async Task RepairAsync(Probe probe, int status)
        {
            var changed = status is >= 200 and < 300 && probe.Route is "PATCH /v1/users/me" or "DELETE /v1/users/me" or "POST /v1/users/me/activation";
            if (!changed)
            {
                return;
            }

            if (probe.Auth.Kind == AuthKind.PendingUser)
            {
                Pending = await RegisterAsync("sweep-pending");
            }
            else if (probe.Auth.Kind == AuthKind.ActiveUser)
            {
                _active = null;
            }
        }

        private async Task<TestUser> RegisterAsync(string label)
        {
            var user = TestUser.New(label);
            using var response = await client.RegisterAsync(user);
            response.StatusCode.Should().Be(HttpStatusCode.Created);
            return user;
        }
    }
}
