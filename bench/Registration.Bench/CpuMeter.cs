namespace Registration.Bench;

/// <summary>
/// CPU time used by each component of the system, read from /proc (Linux): the API, the workers,
/// PostgreSQL, RabbitMQ and the benchmark itself (the load generator). Differences between two
/// snapshots say where a step's CPU went — measured, not guessed.
/// </summary>
public static class CpuMeter
{
    public static readonly string[] Components = ["api", "worker", "postgres", "rabbitmq", "bench"];

    // USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every mainstream Linux.
    private const double TicksPerSecond = 100;

    public static Dictionary<string, double> Snapshot()
    {
        var seconds = Components.ToDictionary(component => component, _ => 0.0);
        if (!OperatingSystem.IsLinux())
        {
            return seconds;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var component = Classify(pid, File.ReadAllText(Path.Combine(directory, "comm")).Trim(), directory);
                if (component is null)
                {
                    continue;
                }

                // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                seconds[component] += (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
                    + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / TicksPerSecond;
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return seconds;
    }

    public static Dictionary<string, double> Since(Dictionary<string, double> before)
    {
        var now = Snapshot();
        return Components.ToDictionary(component => component, component => Math.Max(0, now[component] - before[component]));
    }

    private static string? Classify(int pid, string command, string directory)
    {
        if (pid == Environment.ProcessId)
        {
            return "bench";
        }

        if (command == "postgres")
        {
            return "postgres";
        }

        if (command.StartsWith("beam", StringComparison.Ordinal) || command is "erl_child_setup" or "epmd")
        {
            return "rabbitmq";
        }

        if (command != "dotnet")
        {
            return null;
        }

        var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
        return commandLine.Contains("Registration.Api.dll", StringComparison.Ordinal) ? "api"
            : commandLine.Contains("Notification.Worker.dll", StringComparison.Ordinal) ? "worker"
            // The raw scenario's bare consumer does the worker's job.
            : commandLine.Contains(RawConsumer.Command, StringComparison.Ordinal) ? "worker"
            : null;
    }
}
