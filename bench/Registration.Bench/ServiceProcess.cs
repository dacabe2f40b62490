using System.Diagnostics;

namespace Registration.Bench;

/// <summary>The API or a worker, run from its Release build as a child process.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _name;

    private ServiceProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    public static ServiceProcess Start(string name, string dll, IReadOnlyDictionary<string, string> environment)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: build it with scripts/bench.sh (dotnet build -c Release).");
        }

        var info = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        // Show only warnings and errors, prefixed: the benchmark's tables stay readable.
        process.OutputDataReceived += (_, e) => Echo(name, e.Data);
        process.ErrorDataReceived += (_, e) => Echo(name, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(process, name);
    }

    public bool HasExited => _process.HasExited;

    private static void Echo(string name, string? line)
    {
        if (line is not null && (line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("crit", StringComparison.OrdinalIgnoreCase)))
        {
            Console.Error.WriteLine($"  [{name}] {line}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Console.Error.WriteLine($"  ({_name} stopped)");
    }
}
