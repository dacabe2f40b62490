using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Dapper;
using Microsoft.AspNetCore.WebUtilities;
using Xunit.Abstractions;

namespace Registration.Api.Tests.Api;

/// <summary>
/// A malformed-input sweep over every route: generated JSON-ish bodies, wrong content types, odd
/// Authorization headers, ids and query strings. Whatever comes in, the API never answers 5xx, never leaks
/// a stack trace, and a rejected request leaves the users table exactly as it was.
/// </summary>
public sealed class InputSweepTests(ApiFixture factory, ITestOutputHelper output) : IClassFixture<ApiFixture>
{
    // Placeholders the generators emit, filled in at send time with whoever is the current victim account.
    private const string FreshEmail = "{{fresh}}";
    private const string VictimEmail = "{{victim}}";
    private const string VictimId = "{{victim-id}}";
    private const string VictimBasic = "{{victim-basic}}";
    private const string OperatorBearer = "{{operator-bearer}}";

    private static readonly (string Method, string Path)[] Routes =
    [
        ("POST", "/v1/users"),
        ("POST", "/v1/users/me/activation"),
        ("POST", "/v1/users/me/activation-code"),
        ("GET", "/v1/users/me"),
        ("PATCH", "/v1/users/me"),
        ("DELETE", "/v1/users/me"),
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
        VictimBasic + ", " + VictimBasic,
    ];

    /// <summary>400 by default; SWEEP_ITERATIONS=20000 sweeps deeper (a failure prints the seed that reproduces it).</summary>
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("SWEEP_ITERATIONS"), CultureInfo.InvariantCulture, out var iterations) ? iterations : 400;

    private readonly HttpClient _client = factory.CreateClient();
    private TestUser? _victim;

    [Fact]
    public async Task EveryRoute_AnswersEveryOddAuthorizationHeader_WithoutAServerError_AndWithoutChangingUsers()
    {
        var failures = new List<string>();
        foreach (var (method, path) in Routes)
        {
            foreach (var authorization in OddAuthorizations)
            {
                var input = new SweepInput(method, path, "", authorization, "application/json", Encoding.UTF8.GetBytes("{\"code\":\"0427\"}"), null, null);
                if (await CheckAsync(input) is { } failure)
                {
                    failures.Add(failure);
                }
            }
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public async Task EveryRoute_SurvivesGeneratedMalformedRequests_WithoutAServerError_AndWithoutChangingUsersWhenItRefuses()
    {
        var statuses = new Dictionary<int, int>();

        await Requests.SampleAsync(
            async input =>
            {
                var failure = await CheckAsync(input, statuses);
                failure.Should().BeNull();
            },
            writeLine: output.WriteLine,
            iter: Iterations,
            threads: 1);

        output.WriteLine("Statuses: " + string.Join(", ", statuses.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key}×{pair.Value}")));
        statuses.Keys.Should().Contain([200, 400, 401, 415], "the generators reach the handlers, validation and authentication");
    }

    /// <summary>Sends one input; returns null when the answer is acceptable, else what went wrong.</summary>
    private async Task<string?> CheckAsync(SweepInput input, Dictionary<int, int>? statuses = null)
    {
        var victim = await VictimAsync();
        var before = await UsersSnapshotAsync();

        using var request = input.ToRequest(victim);
        using var response = await _client.SendAsync(request);
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        if (statuses is not null)
        {
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
        }

        var after = await UsersSnapshotAsync();
        if (status >= 200 && status < 300 && after != before)
        {
            // An accepted change (a registration, a new password, a deletion): start over with a fresh victim.
            _victim = null;
        }

        string? problem = null;
        if (status >= 500)
        {
            problem = "a server error";
        }
        else if (body.Contains("   at ", StringComparison.Ordinal) || body.Contains("Npgsql", StringComparison.Ordinal))
        {
            problem = "a stack trace or database detail in the body";
        }
        else if ((status < 200 || status >= 300) && after != before)
        {
            problem = $"a refused request changed the users table ({before} -> {after})";
        }
        else if (status >= 400 && input.Method != "HEAD" && input.Accept is null
            && response.Content.Headers.ContentType?.MediaType != ProblemAssertions.ProblemJson)
        {
            problem = "an error that is not application/problem+json";
        }

        return problem is null ? null : $"{problem}: {input} -> {status} {response.Content.Headers.ContentType} {Truncate(body, 300)}";
    }

    private async Task<TestUser> VictimAsync() => _victim ??= await _client.RegisterUserAsync(ApiRequests.UniqueEmail("victim"));

    /// <summary>Count and a digest of every user row: any insert, update or delete changes it.</summary>
    private async Task<string> UsersSnapshotAsync()
    {
        await using var connection = await factory.Database.OpenAsync();
        return await connection.QuerySingleAsync<string>(
            """
            SELECT count(*) || ':' || coalesce(md5(string_agg(
                id::text || email || status || password_hash || coalesce(activated_at::text, ''), ',' ORDER BY id)), '')
            FROM users
            """);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    // ---- generators ----

    private static readonly Gen<string> HeaderText =
        Gen.String[0, 40].Select(text => new string(text.Where(c => c is not ('\r' or '\n' or '\0')).ToArray()));

    private static readonly Gen<string?> Authorization = Gen.Frequency(
        (2, Gen.Const((string?)null)),
        (5, Gen.OneOf(OddAuthorizations).Select(value => (string?)value)),
        (5, Gen.Const((string?)VictimBasic)),
        (2, Gen.OneOf<string?>(OperatorBearer, "bearer " + TestSettings.OperatorKey)),
        (2, HeaderText.Select(text => (string?)text)),
        (2, Gen.String[0, 80].Select(text => (string?)("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(text))))),
        (1, Gen.Byte.Array[0, 80].Select(bytes => (string?)("Basic " + Convert.ToBase64String(bytes)))),
        (1, HeaderText.Select(text => (string?)("Bearer " + text))));

    private static readonly Gen<string> JsonStringValue = Gen.Frequency(
        (4, Gen.OneOf(
            "", " ", "0427", "0000", "12", "12345", "٠٤٢٧", "04 27", "abcd", "user@example.com", " USER@EXAMPLE.COM ",
            "a@b.c", "x@y", "@example.com", "correct horse battery", "1234567", "ééééééé", "🔑🔑🔑🔑🔑🔑🔑🔑",
            new string('a', 73), new string('a', 300) + "@example.com", "pending", "active", FreshEmail, VictimEmail)
            .Select(text => JsonSerializer.Serialize(text))),
        (2, Gen.String[0, 40].Select(text => JsonSerializer.Serialize(text))),
        (1, Gen.OneOf("\"\\ud800\"", "\"\\u0000\"", "\"\\x41\"", "\"unterminated", "'single'")));

    private static readonly Gen<string> JsonValue = Gen.Recursive<string>((depth, self) =>
    {
        var leaf = Gen.Frequency(
            (4, JsonStringValue),
            (1, Gen.OneOf("null", "true", "false", "0", "-0", "-1", "0.5", "1e400", "123456789012345678901234567890", "NaN", "[]", "{}")),
            (1, Gen.Int.Select(number => number.ToString(CultureInfo.InvariantCulture))));
        if (depth >= 3)
        {
            return leaf;
        }

        var key = Gen.Frequency(
            (4, Gen.OneOf("email", "password", "code", "Email", "PASSWORD", "id", "status", "__proto__", "")),
            (1, Gen.String[0, 12])).Select(name => JsonSerializer.Serialize(name));
        var member = Gen.Select(key, self, (name, value) => $"{name}:{value}");
        var jsonObject = member.Array[0, 4].Select(members => "{" + string.Join(",", members) + "}");
        var jsonArray = self.Array[0, 3].Select(values => "[" + string.Join(",", values) + "]");
        return Gen.Frequency((2, leaf), (4, jsonObject), (1, jsonArray));
    });

    /// <summary>Bodies of the right shape with doubtful values, to get past the JSON reader into the rules.</summary>
    private static readonly Gen<string> WellShapedJson = Gen.Select(
        Gen.OneOf(FreshEmail, FreshEmail, VictimEmail, " " + FreshEmail + " ", "x@y", "a@b.c", "", "é@例え.jp"),
        Gen.OneOf("correct horse battery", "1234567", "12345678", new string('é', 36), new string('é', 37), "", "pass:word:🔑🔑"),
        Gen.OneOf("0427", "0000", "9999", "123", "12345", "04a7", " 0427", "٠٤٢٧"),
        Gen.Int[0, 3],
        (email, password, code, shape) => shape switch
        {
            0 => JsonSerializer.Serialize(new { email, password }),
            1 => JsonSerializer.Serialize(new { code }),
            2 => JsonSerializer.Serialize(new { email }),
            _ => JsonSerializer.Serialize(new { password }),
        });

    private static readonly Gen<byte[]?> Body = Gen.Frequency(
        (6, WellShapedJson.Select(json => (byte[]?)Encoding.UTF8.GetBytes(json))),
        (8, JsonValue.Select(json => (byte[]?)Encoding.UTF8.GetBytes(json))),
        (2, Gen.Select(JsonValue, Gen.Int[0, 60], (json, cut) => (byte[]?)Encoding.UTF8.GetBytes(json[..Math.Min(cut, json.Length)]))),
        (1, Gen.String[0, 100].Select(text => (byte[]?)Encoding.UTF8.GetBytes(text))),
        (1, Gen.Byte.Array[0, 64].Select(bytes => (byte[]?)bytes)),
        (1, Gen.Int[1, 300].Select(depth => (byte[]?)Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth)))),
        (1, Gen.Int[3_900, 4_400].Select(size => (byte[]?)Encoding.UTF8.GetBytes("{\"email\":\"" + FreshEmail + "\"," + new string(' ', size) + "\"password\":\"correct horse battery\"}"))),
        (1, Gen.OneOf<byte[]?>(null, [], [0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}'], Encoding.Unicode.GetBytes("{\"code\":\"0427\"}"))));

    private static readonly Gen<string?> ContentType = Gen.Frequency(
        (6, Gen.Const<string?>("application/json")),
        (4, Gen.OneOf<string?>(
            null, "application/json; charset=utf-8", "application/json; charset=utf-16", "application/json; charset=bogus",
            "application/json; charset=\"", "application/problem+json", "application/merge-patch+json", "application/vnd.api+json",
            "text/plain", "text/json", "application/xml", "multipart/form-data; boundary=x", "multipart/form-data",
            "application/x-www-form-urlencoded", "*/*", "json", "", ";", "application/json;;;", "APPLICATION/JSON")),
        (1, HeaderText.Select(text => (string?)text)));

    private static readonly Gen<string> Id = Gen.Frequency(
        (3, Gen.Const(VictimId)),
        (2, Gen.Guid.Select(guid => guid.ToString())),
        (3, Gen.OneOf(
            "me", "ME", "0", "-1", "null", "%01", "%2F", "%252F", "~", "%E2%98%83", "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
            "3F2504E0-4F89-41D3-9A0C-0305E82C3301", "3f2504e04f8941d39a0c0305e82c3301", "3f2504e0-4f89-41d3-9a0c-0305e82c330",
            "00000000-0000-0000-0000-000000000000", new string('9', 2_000), "%20", "a%20b")),
        (2, Gen.String[1, 30].Select(Uri.EscapeDataString)));

    private static readonly Gen<string> Query = Gen.Select(
            Gen.OneOf("status", "limit", "after", "STATUS", "Limit", "x", "", "limit[]"),
            Gen.Frequency(
                (4, Gen.OneOf("pending", "active", "foo", "", "0", "1", "20", "100", "101", "-1", "abc", "1e3", "%205", "null", "%zz", "%")),
                (2, Gen.String[0, 20].Select(Uri.EscapeDataString)),
                (2, Gen.Byte.Array[0, 40].Select(bytes => WebEncoders.Base64UrlEncode(bytes)))),
            (name, value) => $"{name}={value}")
        .Array[0, 4]
        .Select(pairs => pairs.Length == 0 ? "" : "?" + string.Join("&", pairs));

    private static readonly Gen<(string Method, string Path)> Route = Gen.Frequency(
        (9, Gen.OneOf(Routes)),
        (1, Gen.Select(Gen.OneOf("PUT", "OPTIONS", "HEAD", "POST", "GET", "PATCH", "DELETE"), Gen.OneOf(Routes), (method, route) => (method, route.Path))));

    private static readonly Gen<SweepInput> Requests = Gen.Select(
        Route, Id, Query, Authorization, ContentType, Body,
        Gen.Frequency((4, Gen.Const((string?)null)), (1, Gen.OneOf<string?>("application/json", "*/*", "text/html", "application/xml", "", ";;;"))),
        Gen.Frequency((4, Gen.Const((string?)null)), (1, Gen.OneOf<string?>("garbage", "1.2.3.4", "::1", "1.2.3.4, 5.6.7.8", "999.999.999.999", "", "unknown"))),
        (route, id, query, authorization, contentType, body, accept, forwardedFor) => new SweepInput(
            route.Method, route.Path.Replace("{id}", id, StringComparison.Ordinal), query, authorization, contentType, body, accept, forwardedFor));

    /// <summary>One generated request, with placeholders for the victim account filled in when sent.</summary>
    private sealed record SweepInput(
        string Method, string Path, string Query, string? Authorization, string? ContentType, byte[]? Body, string? Accept, string? ForwardedFor)
    {
        public HttpRequestMessage ToRequest(TestUser victim)
        {
            var request = new HttpRequestMessage(new HttpMethod(Method), Fill(Path + Query, victim));
            if (Authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", Fill(Authorization, victim));
            }

            if (Accept is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept", Accept);
            }

            if (ForwardedFor is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Forwarded-For", ForwardedFor);
            }

            if (Body is not null && Method != "HEAD")
            {
                var text = Encoding.UTF8.GetString(Body);
                var bytes = text.Contains("{{", StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(Fill(text, victim)) : Body;
                request.Content = new ByteArrayContent(bytes);
                if (ContentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            return request;
        }

        public override string ToString()
        {
            var body = Body is null ? "none" : Truncate(Encoding.UTF8.GetString(Body), 200);
            return $"{Method} {Truncate(Path + Query, 200)} Authorization=[{Truncate(Authorization ?? "none", 80)}] "
                + $"Content-Type=[{ContentType ?? "none"}] Accept=[{Accept ?? "none"}] X-Forwarded-For=[{ForwardedFor ?? "none"}] Body=[{body}]";
        }

        private static string Fill(string text, TestUser victim) => text
            .Replace(FreshEmail, ApiRequests.UniqueEmail("sweep"), StringComparison.Ordinal)
            .Replace(VictimEmail, victim.Email, StringComparison.Ordinal)
            .Replace(VictimId, victim.Id.ToString(), StringComparison.Ordinal)
            .Replace(VictimBasic, victim.Credentials.ToString(), StringComparison.Ordinal)
            .Replace(OperatorBearer, ApiRequests.OperatorCredentials.ToString(), StringComparison.Ordinal);
    }
}
