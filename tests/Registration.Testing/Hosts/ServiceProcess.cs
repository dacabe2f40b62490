using System.Diagnostics;

namespace Registration.Testing.Hosts;

/// <summary>
/// A service's built dll run as a child process, <c>dotnet X.dll [args]</c>, configured through
/// environment variables as in production: so a test can SIGKILL it, run a command of its binary,
/// or run several instances side by side. The last lines it writes are kept for the report.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    public const string Api = "Registration.Api";
    public const string Worker = "Notification.Worker";

    private const int KeptLines = 200;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly Action<string>? _echo;

    private ServiceProcess(Process process, string name, Action<string>? echo)
    {
        _process = process;
        Name = name;
        _echo = echo;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Where an API process listens (<c>ASPNETCORE_URLS</c>); null for a worker.</summary>
    public Uri? BaseAddress { get; private init; }

    /// <summary>The last lines the process wrote (stdout and stderr).</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts <c>dotnet {service}.dll {args}</c> from the build of this configuration.</summary>
    /// <param name="service"><see cref="Api"/> or <see cref="Worker"/>.</param>
    /// <param name="echo">Sees every line the process writes (the benchmark shows its errors).</param>
    public static ServiceProcess Start(string name, string service, TestSettings settings, string[]? args = null, Action<string>? echo = null) =>
        Start(name, Repository.ServiceDll(service), settings, args ?? [], echo, baseAddress: null);

    /// <summary>Starts the API on a free loopback port and returns once <c>/health/ready</c> answers 200.</summary>
    public static async Task<ServiceProcess> StartApiAsync(string name, TestSettings settings, Action<string>? echo = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var api = Start(name, Repository.ServiceDll(Api), settings.Copy().Set("ASPNETCORE_URLS", baseAddress.ToString().TrimEnd('/')), [], echo, baseAddress);
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await api.WaitUntilAsync(
                async () =>
                {
                    try
                    {
                        return (await client.GetHealthAsync("/health/ready")).IsHealthy;
                    }
                    catch (HttpRequestException)
                    {
                        return false; // not listening yet
                    }
                },
                "the API process answers /health/ready 200 Healthy",
                TimeSpan.FromSeconds(60));
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }

        return api;
    }

    /// <summary>
    /// Starts a worker and returns once its consumer is on the queue of <paramref name="vhost"/>. Start
    /// workers one after another: it waits for one more consumer than there was.
    /// </summary>
    public static Task<ServiceProcess> StartWorkerAsync(string name, TestSettings settings, RabbitMqVirtualHost vhost, Action<string>? echo = null) =>
        StartConsumerAsync(name, Repository.ServiceDll(Worker), [], settings, vhost, echo);

    /// <summary>
    /// Starts <c>dotnet {dll} {args}</c>, a process that consumes the worker's queue (a worker, or the benchmark's
    /// bare consumer), and returns once its consumer is on the queue of <paramref name="vhost"/>.
    /// </summary>
    public static async Task<ServiceProcess> StartConsumerAsync(
        string name, string dll, string[] args, TestSettings settings, RabbitMqVirtualHost vhost, Action<string>? echo = null)
    {
        var consumersBefore = await ConsumersAsync(vhost);
        var worker = Start(name, dll, settings, args, echo, baseAddress: null);
        try
        {
            await worker.WaitUntilAsync(
                async () => await ConsumersAsync(vhost) > consumersBefore, $"{name} consumes {Broker.ActivationEmailQueue}", TimeSpan.FromSeconds(60));
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }

        return worker;
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails at once, with the output, if the process exits first.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        try
        {
            await Eventually.HoldsAsync(
                async () => HasExited
                    ? throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}) before {what}:{Environment.NewLine}{Output}")
                    : await condition(),
                what,
                timeout);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"{exception.Message}{Environment.NewLine}{Name} output:{Environment.NewLine}{Output}", exception);
        }
    }

    /// <summary>SIGKILL: no shutdown hook runs, in-flight messages are neither finished nor handed back.</summary>
    public void Kill() => _process.Kill(entireProcessTree: false);

    /// <summary>Waits for the process to end by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:0} s. Output:{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private static ServiceProcess Start(string name, string dll, TestSettings settings, string[] args, Action<string>? echo, Uri? baseAddress)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // The dotnet that runs the tests (the CLI names it for its child processes), else the one on PATH.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Workstation GC: several processes share two cores with the tests.
        info.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in settings.ToEnvironmentVariables())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name} ({dll}).");
        var started = new ServiceProcess(process, name, echo) { BaseAddress = baseAddress };
        process.OutputDataReceived += (_, e) => started.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => started.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    private static async Task<uint> ConsumersAsync(RabbitMqVirtualHost vhost) =>
        (await Broker.InspectAsync(vhost, Broker.ActivationEmailQueue))?.Consumers ?? 0;

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _echo?.Invoke(line);
        _output.Enqueue(line);
        while (_output.Count > KeptLines && _output.TryDequeue(out _))
        {
        }
    }
}
