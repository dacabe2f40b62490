using Microsoft.Extensions.Configuration;
using Notification.Worker.DeadLetters;

namespace Registration.Testing.Hosts;

/// <summary>
/// <c>dotnet Notification.Worker.dll dead-letters ...</c> in this process: the same command, given its
/// configuration directly instead of the process's environment variables.
/// (<see cref="TestEnvironment.RunWorkerCommandAsync"/> runs the binary itself.)
/// </summary>
public static class WorkerCommand
{
    public static async Task<(int ExitCode, string Output, string Error)> RunDeadLettersAsync(
        TestSettings settings, string[] args)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.ToConfiguration()!).Build();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await DeadLetterCommand.RunAsync(
            ["dead-letters", .. args], configuration, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }
}
