using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Registration.Hosting;

/// <summary>
/// What every operator command of a service binary (<c>dotnet X.dll &lt;command&gt; ...</c>, e.g. the worker's
/// <c>dead-letters</c>, the API's <c>outbox-parked</c>) does the same way: it reads the service's own
/// configuration without starting the service, answers <c>help</c>, refuses a bad command line with its
/// usage, stops on Ctrl+C, and ends a failure with a one-line message, never a crash dump.
/// Exit codes: <see cref="Done"/> 0, <see cref="Failure"/> 1, <see cref="Usage"/> 2.
/// </summary>
public static class OperatorCommand
{
    public const int Done = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    /// <summary>
    /// Runs <paramref name="command"/> with the service's configuration sources (appsettings*.json next to the dll,
    /// environment variables) and a token that Ctrl+C cancels; an exception becomes <c>error: ...</c> and exit 1.
    /// </summary>
    public static async Task<int> RunAsync(TextWriter error, Func<IConfiguration, CancellationToken, Task<int>> command)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(command);
        var configuration = Host.CreateApplicationBuilder(
            new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory }).Configuration;
        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupted.Cancel();
        };

        try
        {
            return await command(configuration, interrupted.Token);
        }
#pragma warning disable CA1031 // An operator command ends with a message and exit code 1, never a crash dump.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await error.WriteLineAsync($"error: {ex.GetType().Name}: {ex.Message}");
            return Failure;
        }
    }

    /// <summary><c>&lt;command&gt; help</c> (or <c>--help</c>, <c>-h</c>).</summary>
    public static bool AsksForHelp(string[] args) => args is [_, "help" or "--help" or "-h"];

    /// <summary>Says what is wrong with the command line and how to use it; returns <see cref="Usage"/>.</summary>
    public static async Task<int> RefuseAsync(TextWriter error, string? problem, string usage)
    {
        ArgumentNullException.ThrowIfNull(error);
        await error.WriteLineAsync($"error: {problem}");
        await error.WriteLineAsync(usage);
        return Usage;
    }
}
