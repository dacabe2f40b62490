using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Registration.Api.Infrastructure;
using Registration.Testing.Probes;

namespace Registration.Bench;

/// <summary>The benchmark scenarios. Each prints one table; numbers are measured in this run.</summary>
public sealed class Scenarios(BenchEnvironment environment, BenchOptions options)
{
    private const string Password = "bench-password-1";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private double _hashSeconds;
    private double _bound;
    private double _rawRate;
    private int _runId;
    private int _workFactor = options.WorkFactors[0];

    public int WorkFactor => _workFactor;

    /// <summary>The API now runs at <paramref name="workFactor"/>: its bound is measured again.</summary>
    public void UseWorkFactor(int workFactor)
    {
        _workFactor = workFactor;
        _hashSeconds = 0;
        _bound = 0;
    }

    /// <summary>
    /// bcrypt time h at the work factor for each implementation the API can run (the system's libxcrypt,
    /// BCrypt.Net-Next), samples interleaved so that a change of load hits both alike; the machine's bound
    /// C / h is the fastest's.
    /// </summary>
    public void Hash()
    {
        List<IBcrypt> implementations = [ManagedBcrypt.Instance];
        if (NativeBcrypt.TryCreate(out var native, out var problem))
        {
            implementations.Insert(0, native);
        }
        else
        {
            Console.Error.WriteLine($"  (no native bcrypt here: {problem})");
        }

        const int samples = 10;
        var cores = Environment.ProcessorCount;
        var elapsed = implementations.ToDictionary(bcrypt => bcrypt, _ => TimeSpan.Zero);
        var stored = implementations.ToDictionary(bcrypt => bcrypt, bcrypt => bcrypt.Hash(Password, _workFactor));
        for (var i = 0; i < samples; i++)
        {
            foreach (var bcrypt in implementations)
            {
                var started = Stopwatch.GetTimestamp();
                bcrypt.Verify(Password, stored[bcrypt]);
                elapsed[bcrypt] += Stopwatch.GetElapsedTime(started);
            }
        }

        var table = new Table("implementation", "work factor", "cores C", "h (ms, one thread)", "bound C/h (per s)", "measured parallel bcrypt/s");
        foreach (var bcrypt in implementations)
        {
            var hashSeconds = elapsed[bcrypt].TotalSeconds / samples;
            if (_hashSeconds <= 0 || hashSeconds < _hashSeconds)
            {
                _hashSeconds = hashSeconds;
                _bound = cores / hashSeconds;
            }

            // What the cores really deliver in parallel (shared caches, SMT, a noisy neighbour).
            var parallelCount = 0;
            var watch = Stopwatch.StartNew();
            Parallel.For(0, cores * 5, new ParallelOptions { MaxDegreeOfParallelism = cores }, _ =>
            {
                bcrypt.Verify(Password, stored[bcrypt]);
                Interlocked.Increment(ref parallelCount);
            });
            var parallelRate = parallelCount / watch.Elapsed.TotalSeconds;
            table.Add(bcrypt.Name, _workFactor, cores, LatencyStats.Ms(hashSeconds * 1000), (cores / hashSeconds).ToString("0.0"), parallelRate.ToString("0.0"));
        }

        table.Print("hash: bcrypt cost per implementation; the bound is the fastest's");
    }

    /// <summary>Closed-loop registrations at rising concurrency.</summary>
    public async Task RegisterAsync()
    {
        EnsureBound();
        // Warm the JIT and the pools of every process first: the first step must not pay for start-up.
        var warm = Interlocked.Increment(ref _runId);
        await ClosedLoopAsync(2, async (worker, i) =>
        {
            using var content = JsonContent.Create(new { email = $"w{warm}-{worker}-{i}@bench.local", password = Password });
            using var response = await environment.Api.PostAsync("/v1/users", content);
            return response.StatusCode;
        });
        var table = new Table("concurrency", "201/s", "% of bound", "p50 ms", "p95 ms", "p99 ms", "201", "503", "other");
        var steps = new List<(int, StepResult)>();
        foreach (var concurrency in options.Concurrency)
        {
            var run = Interlocked.Increment(ref _runId);
            var step = await ClosedLoopAsync(concurrency, async (worker, i) =>
            {
                using var content = JsonContent.Create(new { email = $"r{run}-{worker}-{i}@bench.local", password = Password });
                using var response = await environment.Api.PostAsync("/v1/users", content);
                return response.StatusCode;
            });
            steps.Add((concurrency, step));
            table.Add(concurrency, step.Rate.ToString("0.0"), (100 * step.Rate / _bound).ToString("0"), LatencyStats.Ms(step.Latency.Percentile(50)),
                LatencyStats.Ms(step.Latency.Percentile(95)), LatencyStats.Ms(step.Latency.Percentile(99)), step.Ok, step.Busy, step.Other);
        }

        table.Print($"register: POST /v1/users, {options.StepDuration.TotalSeconds:0} s per step, work factor {_workFactor}");
        PrintCpu("register: where the CPU went (per 201)", steps);
    }

    /// <summary>Closed-loop activations (Basic auth + code check) of pre-made pending users.</summary>
    public async Task ActivateAsync()
    {
        EnsureBound();
        var users = (int)Math.Ceiling(_bound * 1.5 * options.StepDuration.TotalSeconds * options.Concurrency.Count) + 200;
        var emails = await CreatePendingUsersAsync(users);
        var next = -1;
        var table = new Table("concurrency", "200/s", "% of bound", "p50 ms", "p95 ms", "p99 ms", "200", "503", "other");
        var steps = new List<(int, StepResult)>();
        foreach (var concurrency in options.Concurrency)
        {
            var step = await ClosedLoopAsync(concurrency, async (_, _) =>
            {
                var index = Interlocked.Increment(ref next);
                if (index >= emails.Count)
                {
                    return null;
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/users/me/activation")
                {
                    Content = JsonContent.Create(new { code = "1234" }),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue(
                    "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{emails[index]}:{Password}")));
                using var response = await environment.Api.SendAsync(request);
                return response.StatusCode;
            });
            steps.Add((concurrency, step));
            table.Add(concurrency, step.Rate.ToString("0.0"), (100 * step.Rate / _bound).ToString("0"), LatencyStats.Ms(step.Latency.Percentile(50)),
                LatencyStats.Ms(step.Latency.Percentile(95)), LatencyStats.Ms(step.Latency.Percentile(99)), step.Ok, step.Busy, step.Other);
        }

        table.Print($"activate: POST /v1/users/me/activation, {options.StepDuration.TotalSeconds:0} s per step, work factor {_workFactor}");
        PrintCpu("activate: where the CPU went (per 200)", steps);
    }

    /// <summary>
    /// Open-loop registrations at <see cref="BenchOptions.OverloadFactors"/> × the bound for one step each: what
    /// cannot be served in time must be refused at once (503), what is admitted must be served within the queue
    /// timeout plus one hash. Clients here do not slow down (no Retry-After honoured): the load stays offered.
    /// </summary>
    public async Task OverloadAsync()
    {
        EnsureBound();
        var timeout = BenchEnvironment.HashingQueueTimeout;
        var servedLimit = timeout.TotalMilliseconds + _hashSeconds * 1000;
        var table = new Table("× bound", "offered/s", "201/s", "503/s", "other", "refused p50 ms", "refused p99 ms", "served p50 ms", "served p99 ms",
            "refused p99 < 20 ms", $"served p99 ≤ {servedLimit:0} ms");
        foreach (var factor in options.OverloadFactors)
        {
            var rate = factor * _bound;
            var run = Interlocked.Increment(ref _runId);
            var refused = new LatencyStats();
            var served = new LatencyStats();
            var other = 0;
            var requests = new List<Task>();
            var watch = Stopwatch.StartNew();
            var sent = 0;
            while (watch.Elapsed < options.StepDuration)
            {
                // Open loop: by now, elapsed × rate requests have left, whatever the answers are doing.
                for (var due = (int)(watch.Elapsed.TotalSeconds * rate); sent < due; sent++)
                {
                    var email = $"o{run}-{sent}@bench.local";
                    requests.Add(Task.Run(async () =>
                    {
                        var started = Stopwatch.GetTimestamp();
                        using var content = JsonContent.Create(new { email, password = Password });
                        using var response = await environment.Api.PostAsync("/v1/users", content);
                        var completed = Stopwatch.GetTimestamp();
                        switch (response.StatusCode)
                        {
                            case HttpStatusCode.Created:
                                served.AddElapsed(started, completed);
                                break;
                            case HttpStatusCode.ServiceUnavailable:
                                refused.AddElapsed(started, completed);
                                break;
                            default:
                                Interlocked.Increment(ref other);
                                break;
                        }
                    }));
                }

                await Task.Delay(2);
            }

            var seconds = watch.Elapsed.TotalSeconds;
            await Task.WhenAll(requests);
            table.Add(factor, rate.ToString("0.0"), (served.Count / seconds).ToString("0.0"), (refused.Count / seconds).ToString("0.0"), other,
                LatencyStats.Ms(refused.Percentile(50)), LatencyStats.Ms(refused.Percentile(99)),
                LatencyStats.Ms(served.Percentile(50)), LatencyStats.Ms(served.Percentile(99)),
                refused.Count == 0 ? "-" : refused.Percentile(99) < 20 ? "met" : "missed",
                served.Count == 0 ? "-" : served.Percentile(99) <= servedLimit ? "met" : "missed");
            // The queue empties before the next step.
            await Task.Delay(timeout + TimeSpan.FromSeconds(1));
        }

        table.Print($"overload: POST /v1/users open loop at multiples of the bound ({_bound:0.0}/s), {options.StepDuration.TotalSeconds:0} s per step, " +
                    $"work factor {_workFactor}, queue timeout {timeout.TotalMilliseconds:0} ms, h {_hashSeconds * 1000:0.0} ms");
    }

    /// <summary>
    /// The pipeline's ceiling in this run: the same outbox rows, dispatcher, broker, queue and provider, consumed
    /// by a bare MassTransit consumer that posts each message once (<see cref="RawConsumer"/>), 0 ms provider.
    /// </summary>
    public async Task RawAsync()
    {
        var table = new Table("consumer", "provider delay", "messages", "emails/s", "latency p50 ms", "latency p99 ms", "duplicates");
        var cpuTable = new Table(["consumer", .. CpuMeter.Components.Select(c => $"{c} µs/email"), "total µs/email", "CPU busy %"]);
        var run = await PipelineRunAsync(() => environment.StartRawConsumerAsync(options.WorkerConcurrency), 0);
        _rawRate = run.Rate;
        table.Add("raw", "0 ms", run.Latency.Count, run.Rate.ToString("0"), LatencyStats.Ms(run.Latency.Percentile(50)),
            LatencyStats.Ms(run.Latency.Percentile(99)), run.Duplicates);
        cpuTable.Add(["raw", .. CpuMeter.Components.Select(c => run.MicrosPerEmail(c).ToString("0")), run.TotalMicrosPerEmail.ToString("0"), run.BusyPercent.ToString("0")]);
        await environment.StopWorkersAsync();
        table.Print($"raw: {options.PipelineMessages} UserRegistered through outbox → RabbitMQ → bare MassTransit consumer → provider (concurrency {options.WorkerConcurrency})");
        cpuTable.Print("raw: where the CPU went (per email; the bench column includes the fake provider)");
    }

    /// <summary>Outbox rows inserted directly, published by the API, emailed by 1..N workers to the fake provider.</summary>
    public async Task PipelineAsync()
    {
        if (_rawRate <= 0)
        {
            await RawAsync();
        }

        var table = new Table("workers", "provider delay", "messages", "emails/s", "% of raw", "max outbox lag ms", "latency p50 ms", "latency p99 ms", "duplicates");
        var cpuTable = new Table(["workers", "provider delay", .. CpuMeter.Components.Select(c => $"{c} µs/email"), "total µs/email", "CPU busy %"]);
        foreach (var delay in options.ProviderDelaysMs)
        {
            foreach (var workers in options.PipelineWorkers)
            {
                var run = await PipelineRunAsync(() => environment.StartWorkersAsync(workers, options.WorkerConcurrency), delay);
                cpuTable.Add([workers, $"{delay} ms", .. CpuMeter.Components.Select(c => run.MicrosPerEmail(c).ToString("0")),
                    run.TotalMicrosPerEmail.ToString("0"), run.BusyPercent.ToString("0")]);
                table.Add(workers, $"{delay} ms", run.Latency.Count, run.Rate.ToString("0"), delay == 0 ? (100 * run.Rate / _rawRate).ToString("0") : "-",
                    run.MaxLag.ToString("0"), LatencyStats.Ms(run.Latency.Percentile(50)), LatencyStats.Ms(run.Latency.Percentile(99)), run.Duplicates);
            }
        }

        await environment.StopWorkersAsync();
        table.Print($"pipeline: {options.PipelineMessages} UserRegistered through outbox → RabbitMQ → worker → provider (worker concurrency {options.WorkerConcurrency}); raw: {_rawRate:0} emails/s");
        cpuTable.Print("pipeline: where the CPU went (per email; the bench column includes the fake provider)");
    }

    private sealed record PipelineRun(double Rate, LatencyStats Latency, double MaxLag, long Duplicates, Dictionary<string, double> Cpu, double Wall)
    {
        public double MicrosPerEmail(string component) => 1e6 * Cpu[component] / Math.Max(1, Latency.Count);

        public double TotalMicrosPerEmail => 1e6 * Cpu.Values.Sum() / Math.Max(1, Latency.Count);

        public double BusyPercent => 100 * Cpu.Values.Sum() / (Environment.ProcessorCount * Wall);
    }

    /// <summary>
    /// Starts the consumers, warms them, writes the outbox rows in one commit, waits until every email arrived.
    /// The warm-up (half the run's messages, at most 10,000, through the same path) is not measured: a consumer
    /// process just started runs its first thousands of messages in the JIT's first tiers while the JIT recompiles
    /// the hot ones in the background (12% of the worker's samples 13–28 s after start), which is start-up, not
    /// throughput. The raw consumer and the worker are warmed alike.
    /// </summary>
    private async Task<PipelineRun> PipelineRunAsync(Func<Task> startConsumers, int delayMs)
    {
        await startConsumers();
        environment.Provider.Reset();
        environment.Provider.Accept(TimeSpan.FromMilliseconds(delayMs));
        var warmUp = Enumerable.Range(0, Math.Clamp(options.PipelineMessages / 2, 500, 10_000)).Select(i => $"pw{Interlocked.Increment(ref _runId)}-{i}@bench.local").ToList();
        await InsertOutboxRowsAsync(warmUp);
        await WaitForDeliveryAsync(warmUp.Count, TimeSpan.FromMinutes(2));
        await AnalyzeAsync();
        environment.Provider.Reset();
        environment.Provider.Accept(TimeSpan.FromMilliseconds(delayMs));
        var run = Interlocked.Increment(ref _runId);
        var emails = Enumerable.Range(0, options.PipelineMessages).Select(i => $"p{run}-{i}@bench.local").ToList();

        var cpuBefore = CpuMeter.Snapshot();
        var start = await InsertOutboxRowsAsync(emails);
        var maxLag = await WaitForDeliveryAsync(emails.Count, TimeSpan.FromMinutes(5));
        var latency = new LatencyStats();
        long last = start;
        foreach (var email in emails)
        {
            if (environment.Provider.TryGetFirstTo(email, out var arrived))
            {
                latency.AddElapsed(start, arrived.Timestamp);
                last = Math.Max(last, arrived.Timestamp);
            }
        }

        var seconds = Stopwatch.GetElapsedTime(start, last).TotalSeconds;
        var cpu = CpuMeter.Since(cpuBefore);
        var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new PipelineRun(latency.Count / seconds, latency, maxLag, environment.Provider.RequestCount - environment.Provider.DistinctRecipients, cpu, wall);
    }

    /// <summary>
    /// Brings the statistics of the database, created empty for this run, to what a service in production has: its
    /// tables analysed. Without it the worker's prepared statements keep the plans made for an empty table (a
    /// sequential scan of <c>processed_messages</c> per statement, 8.4 million rows read in the first 20 s of a run)
    /// until autovacuum gets to it; ANALYZE invalidates those plans.
    /// </summary>
    private async Task AnalyzeAsync()
    {
        await using var connection = await environment.OpenAsync();
        // The command type is said: Dapper takes a text without a space for the name of a stored procedure.
        await connection.ExecuteAsync(new CommandDefinition("ANALYZE", commandType: System.Data.CommandType.Text));
    }

    /// <summary>Registrations at 50% of the bound; time from the 201 to the provider receiving the email.</summary>
    public async Task EndToEndAsync()
    {
        EnsureBound();
        environment.Provider.Accept();
        await environment.StartWorkersAsync(1, options.WorkerConcurrency);
        // Warm-up: the new worker's first messages pay for JIT; they are not the latency being measured.
        environment.Provider.Reset();
        for (var i = 0; i < 20; i++)
        {
            using var content = JsonContent.Create(new { email = $"ew{i}-{Guid.NewGuid():N}@bench.local", password = Password });
            using var response = await environment.Api.PostAsync("/v1/users", content);
        }

        await WaitForDeliveryAsync(20, TimeSpan.FromSeconds(30));
        environment.Provider.Reset();
        var rate = _bound / 2;
        var run = Interlocked.Increment(ref _runId);
        var created = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var failures = 0;
        var inFlight = new List<Task>();
        var watch = Stopwatch.StartNew();
        for (var i = 0; watch.Elapsed < options.EndToEndDuration; i++)
        {
            // Open loop: request i leaves at i / rate whatever the previous ones are doing.
            var due = TimeSpan.FromSeconds(i / rate);
            if (due > watch.Elapsed)
            {
                await Task.Delay(due - watch.Elapsed);
            }

            var email = $"e{run}-{i}@bench.local";
            inFlight.Add(Task.Run(async () =>
            {
                using var content = JsonContent.Create(new { email, password = Password });
                using var response = await environment.Api.PostAsync("/v1/users", content);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    created[email] = Stopwatch.GetTimestamp();
                }
                else
                {
                    Interlocked.Increment(ref failures);
                }
            }));
        }

        await Task.WhenAll(inFlight);
        var waited = Stopwatch.StartNew();
        while (created.Keys.Any(email => !environment.Provider.TryGetFirstTo(email, out _)) && waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        var latency = new LatencyStats();
        var missing = 0;
        foreach (var (email, createdAt) in created)
        {
            if (environment.Provider.TryGetFirstTo(email, out var arrived))
            {
                // The email can land before the client has read the 201: count that as zero.
                latency.Add(Math.Max(0, Stopwatch.GetElapsedTime(createdAt, arrived.Timestamp).TotalMilliseconds));
            }
            else
            {
                missing++;
            }
        }

        await environment.StopWorkersAsync();
        var table = new Table("target rate/s", "achieved 201/s", "non-201", "emails", "missing", "p50 ms", "p99 ms", "max ms");
        table.Add(rate.ToString("0.0"), (created.Count / options.EndToEndDuration.TotalSeconds).ToString("0.0"), failures, latency.Count, missing,
            LatencyStats.Ms(latency.Percentile(50)), LatencyStats.Ms(latency.Percentile(99)), LatencyStats.Ms(latency.Max()));
        table.Print($"e2e: registrations at 50% of the bound for {options.EndToEndDuration.TotalSeconds:0} s, 201 → provider");
    }

    private void EnsureBound()
    {
        if (_bound <= 0)
        {
            Hash();
        }
    }

    private sealed record StepResult(double Rate, LatencyStats Latency, int Ok, int Busy, int Other, Dictionary<string, double> Cpu, double Seconds);

    /// <summary>CPU milliseconds per successful request, by component, for each step.</summary>
    private static void PrintCpu(string title, IReadOnlyList<(int Concurrency, StepResult Step)> steps)
    {
        var table = new Table(["concurrency", .. CpuMeter.Components.Select(c => $"{c} ms/req"), "total ms/req", "CPU busy %"]);
        foreach (var (concurrency, step) in steps)
        {
            var perRequest = CpuMeter.Components.Select(c => step.Ok == 0 ? "-" : (1000 * step.Cpu[c] / step.Ok).ToString("0.0")).ToList();
            var total = step.Cpu.Values.Sum();
            table.Add([concurrency, .. perRequest, step.Ok == 0 ? "-" : (1000 * total / step.Ok).ToString("0.0"),
                (100 * total / (Environment.ProcessorCount * step.Seconds)).ToString("0")]);
        }

        table.Print(title);
    }

    /// <summary>
    /// <paramref name="concurrency"/> loops, each sending its next request when the previous answered.
    /// After a warm-up, a window of one step duration is measured: the requests that complete inside it
    /// (in steady state their count over the window is the throughput), and the CPU used inside it.
    /// A null status ends that loop.
    /// </summary>
    private async Task<StepResult> ClosedLoopAsync(int concurrency, Func<int, int, Task<HttpStatusCode?>> send)
    {
        var latency = new LatencyStats();
        int ok = 0, busy = 0, other = 0;
        var warmUp = TimeSpan.FromSeconds(options.Quick ? 0.5 : 2);
        long windowStart = long.MaxValue, windowEnd = long.MaxValue;
        var stop = false;
        var loops = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; !Volatile.Read(ref stop); i++)
            {
                var started = Stopwatch.GetTimestamp();
                var status = await send(worker, i);
                var completed = Stopwatch.GetTimestamp();
                if (status is null)
                {
                    return;
                }

                if (status == HttpStatusCode.ServiceUnavailable)
                {
                    // A well-behaved client honours Retry-After (1 s); one that retries at once measures
                    // its own retry storm, not the service.
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }

                if (completed < Interlocked.Read(ref windowStart) || completed > Interlocked.Read(ref windowEnd))
                {
                    continue;
                }

                latency.AddElapsed(started, completed);
                switch ((int)status.Value)
                {
                    case 200 or 201:
                        Interlocked.Increment(ref ok);
                        break;
                    case 503:
                        Interlocked.Increment(ref busy);
                        break;
                    default:
                        Interlocked.Increment(ref other);
                        break;
                }
            }
        })).ToList();

        await Task.Delay(warmUp);
        var cpuBefore = CpuMeter.Snapshot();
        Interlocked.Exchange(ref windowStart, Stopwatch.GetTimestamp());
        await Task.Delay(options.StepDuration);
        Interlocked.Exchange(ref windowEnd, Stopwatch.GetTimestamp());
        var cpu = CpuMeter.Since(cpuBefore);
        Volatile.Write(ref stop, true);
        await Task.WhenAll(loops);
        var measured = Stopwatch.GetElapsedTime(windowStart, windowEnd).TotalSeconds;
        return new StepResult(ok / measured, latency, ok, busy, other, cpu, measured);
    }

    /// <summary>Pending users with one known password hash and a live code "1234", written straight to the database.</summary>
    private async Task<List<string>> CreatePendingUsersAsync(int count)
    {
        var hash = BCrypt.Net.BCrypt.HashPassword(Password, _workFactor);
        var run = Interlocked.Increment(ref _runId);
        var now = DateTime.UtcNow;
        var emails = new List<string>(count);
        var ids = new List<Guid>(count);
        await using var connection = await environment.OpenAsync();
        await using (var users = await connection.BeginBinaryImportAsync(
            "COPY users (id, email, email_key, password_hash, status, created_at, last_code_issued_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                var id = Guid.CreateVersion7();
                var email = $"a{run}-{i}@bench.local";
                emails.Add(email);
                ids.Add(id);
                await users.StartRowAsync();
                await users.WriteAsync(id, NpgsqlDbType.Uuid);
                await users.WriteAsync(email, NpgsqlDbType.Text);
                await users.WriteAsync(email, NpgsqlDbType.Text); // the key of an ASCII lower-case address is itself
                await users.WriteAsync(hash, NpgsqlDbType.Text);
                await users.WriteAsync("pending", NpgsqlDbType.Text);
                await users.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await users.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }

            await users.CompleteAsync();
        }

        await using (var codes = await connection.BeginBinaryImportAsync(
            "COPY activation_codes (id, user_id, code, purpose, reason, sent_to, issued_at, expires_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < ids.Count; i++)
            {
                await codes.StartRowAsync();
                await codes.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await codes.WriteAsync(ids[i], NpgsqlDbType.Uuid);
                await codes.WriteAsync("1234", NpgsqlDbType.Char);
                await codes.WriteAsync("activation", NpgsqlDbType.Text);
                await codes.WriteAsync("registration", NpgsqlDbType.Text);
                await codes.WriteAsync(emails[i], NpgsqlDbType.Text);
                await codes.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await codes.WriteAsync(now.AddHours(2), NpgsqlDbType.TimestampTz);
            }

            await codes.CompleteAsync();
        }

        return emails;
    }

    /// <summary>Writes one UserRegistered outbox row per email in one transaction; returns the commit time.</summary>
    private async Task<long> InsertOutboxRowsAsync(IReadOnlyList<string> emails)
    {
        var now = DateTimeOffset.UtcNow;
        await using var connection = await environment.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var rows = await connection.BeginBinaryImportAsync(
            "COPY outbox_messages (id, message_type, payload, created_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var email in emails)
            {
                var payload = JsonSerializer.Serialize(new
                {
                    userId = Guid.CreateVersion7(),
                    email,
                    activationCode = "1234",
                    codeExpiresAt = now.AddHours(1),
                    occurredAt = now,
                }, Json);
                await rows.StartRowAsync();
                await rows.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await rows.WriteAsync("UserRegistered", NpgsqlDbType.Text);
                await rows.WriteAsync(payload, NpgsqlDbType.Jsonb);
                await rows.WriteAsync(now.UtcDateTime, NpgsqlDbType.TimestampTz);
            }

            await rows.CompleteAsync();
        }

        await transaction.CommitAsync();
        return Stopwatch.GetTimestamp();
    }

    /// <summary>Waits until the provider saw <paramref name="expected"/> recipients; returns the largest outbox lag seen (ms).</summary>
    private async Task<double> WaitForDeliveryAsync(int expected, TimeSpan timeout)
    {
        await using var connection = await environment.OpenAsync();
        var maxLag = 0.0;
        var watch = Stopwatch.StartNew();
        while (environment.Provider.DistinctRecipients < expected && watch.Elapsed < timeout)
        {
            var lag = await connection.ExecuteScalarAsync<double?>(
                "SELECT extract(epoch FROM now() - min(created_at)) * 1000 FROM outbox_messages WHERE dispatched_at IS NULL") ?? 0;
            maxLag = Math.Max(maxLag, lag);
            await Task.Delay(100);
        }

        if (environment.Provider.DistinctRecipients < expected)
        {
            Console.Error.WriteLine($"  warning: only {environment.Provider.DistinctRecipients} of {expected} emails arrived within {timeout.TotalSeconds:0} s");
        }

        return maxLag;
    }
}
