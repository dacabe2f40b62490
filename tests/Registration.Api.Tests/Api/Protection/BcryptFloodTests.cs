using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Registration.Api.Tests.Api.Protection;

/// <summary>
/// The bcrypt bulkhead under a flood of Basic-auth requests, over real connections: the flood gets 200, 401
/// or a quick 503 <c>unavailable</c>, never a 500, while the health endpoint and an operator request (no
/// bcrypt) keep answering. No timing is asserted; the numbers are printed for the record.
/// </summary>
public sealed class BcryptFloodTests(BcryptFloodTests.BcryptFloodApi factory, ITestOutputHelper output) : IClassFixture<BcryptFloodTests.BcryptFloodApi>
{
    private const int Concurrency = 200;

    /// <summary>
    /// Kestrel with bcrypt at a realistic cost behind a small bulkhead: two hashes at once, four waiting, so
    /// a flood of Basic-auth requests overflows it and gets 503 <c>unavailable</c>.
    /// </summary>
    public sealed class BcryptFloodApi : KestrelApiFixture
    {
        public const int WorkFactor = 10;
        public const int HashingConcurrency = 2;
        public const int HashingQueueLimit = 4;

        // Every 503 is logged as an error with its stack trace: hundreds of them would measure the logger, not the bulkhead.
        // The flood sends one wrong password over and over from one client: sign-in throttling would answer it 429
        // before bcrypt, which is not what this test measures (SignInThrottlingTests does).
        protected override void Configure(TestSettings settings) => settings
            .BcryptWorkFactor(WorkFactor)
            .Hashing(HashingConcurrency, HashingQueueLimit)
            .AbuseLimits(failedSignIns: 10_000, failedSignInsPerAccountPerHour: 1_000_000)
            .LogLevel("None", "Registration.Api.Infrastructure.ProblemExceptionHandler");
    }

    [Fact]
    public async Task HealthAndOperatorRequests_KeepAnswering_WhileBasicAuthFloodsTheBcryptBulkhead()
    {
        using var setup = factory.CreateClient();
        var user = await setup.RegisterUserAsync();
        AuthenticationHeaderValue[] credentials =
        [
            user.Credentials,
            BasicAuth.Header(user.Email, "a wrong password"),
            BasicAuth.Header(ApiRequests.UniqueEmail("unknown"), "a wrong password"),
        ];
        using var floodClient = factory.CreateClient();
        using var probeClient = factory.CreateClient();
        var floodStatuses = new ConcurrentBag<int>();
        var badAnswers = new ConcurrentBag<string>();
        var healthLatencies = new List<double>();
        var healthStatuses = new List<HttpStatusCode>();
        var operatorStatuses = new List<HttpStatusCode>();

        var stopwatch = Stopwatch.StartNew();
        var flood = Task.WhenAll(Enumerable.Range(0, Concurrency).Select(flooder => Task.Run(async () =>
        {
            using var response = await floodClient.GetMeAsync(credentials[flooder % credentials.Length]);
            floodStatuses.Add((int)response.StatusCode);
            if (await DescribeIfUnexpectedAsync(response) is { } bad)
            {
                badAnswers.Add(bad);
            }
        })));
        var healthProbe = Task.Run(async () =>
        {
            while (!flood.IsCompleted)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await probeClient.GetAsync("/health/live");
                healthLatencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                healthStatuses.Add(response.StatusCode);
            }
        });
        var operatorProbe = Task.Run(async () =>
        {
            while (!flood.IsCompleted)
            {
                using var response = await probeClient.ListUsersAsync(ApiRequests.OperatorCredentials, "?limit=5");
                operatorStatuses.Add(response.StatusCode);
            }
        });
        await Task.WhenAll(flood, healthProbe, operatorProbe);
        var elapsed = stopwatch.Elapsed;
        using var afterwards = await setup.GetMeAsync(user.Credentials);

        Report(elapsed, [.. floodStatuses], healthLatencies, operatorStatuses);
        badAnswers.Should().BeEmpty("the flood gets only 200, 401 or a 503 unavailable problem with Retry-After");
        floodStatuses.Should().OnlyContain(status => status == 200 || status == 401 || status == 503);
        floodStatuses.Should().Contain(503, "the flood overflows the bulkhead (2 running, 4 waiting)");
        floodStatuses.Should().Contain(status => status == 200 || status == 401, "the bulkhead still serves what fits");
        healthStatuses.Should().NotBeEmpty().And.OnlyContain(status => status == HttpStatusCode.OK, "/health/live answers throughout");
        operatorStatuses.Should().NotBeEmpty().And.OnlyContain(status => status == HttpStatusCode.OK, "requests without bcrypt are not starved");
        afterwards.StatusCode.Should().Be(HttpStatusCode.OK, "the bulkhead gives back every slot it took");
    }

    /// <summary>Null for an expected answer; otherwise what was wrong with it.</summary>
    private static async Task<string?> DescribeIfUnexpectedAsync(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status == 200)
        {
            return null;
        }

        var body = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType != ProblemAssertions.ProblemJson)
        {
            return $"{status} not a problem: {body}";
        }

        var type = JsonDocument.Parse(body).RootElement.GetProperty("type").GetString();
        return status switch
        {
            401 when type == "/problems/unauthorized" => null,
            503 when type == "/problems/unavailable" && response.Headers.RetryAfter?.Delta > TimeSpan.Zero
                && response.Headers.Contains("X-Content-Type-Options") => null,
            _ => $"{status} {type} Retry-After={response.Headers.RetryAfter}: {body}",
        };
    }

    private void Report(TimeSpan elapsed, List<int> floodStatuses, List<double> healthLatencies, List<HttpStatusCode> operatorStatuses)
    {
        if (healthLatencies.Count == 0)
        {
            healthLatencies.Add(double.NaN);
        }

        healthLatencies.Sort();
        double Percentile(double p) => healthLatencies[Math.Clamp((int)Math.Ceiling(p * healthLatencies.Count) - 1, 0, healthLatencies.Count - 1)];

        var counts = Tally.Of(floodStatuses, status => status.ToString(CultureInfo.InvariantCulture));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            Flood: {floodStatuses.Count} Basic-auth GET /v1/users/me fired at once (right password, wrong password, unknown email in turn), bcrypt work factor {BcryptFloodApi.WorkFactor}, bulkhead {BcryptFloodApi.HashingConcurrency} running + {BcryptFloodApi.HashingQueueLimit} queued, {Environment.ProcessorCount} CPUs, Kestrel.
            Duration: {elapsed.TotalMilliseconds:0} ms. Flood answers: {counts}.
            GET /health/live during the flood: {healthLatencies.Count} requests, p50 {Percentile(0.50):0.0} ms, p99 {Percentile(0.99):0.0} ms, max {healthLatencies[^1]:0.0} ms.
            Operator GET /v1/users (Bearer, no bcrypt) during the flood: {operatorStatuses.Count} requests, {operatorStatuses.Count(status => status == HttpStatusCode.OK)} answered 200.
            """));
    }
}
