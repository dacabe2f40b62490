using System.Diagnostics;

namespace Registration.Testing.Deployment;

/// <summary>
/// A command-line tool the deployment checks run (kubectl, promtool), from the repository root. Required, not
/// optional: when it is missing the check fails with the way to install it, since a check that quietly skips
/// would pass on nothing.
/// </summary>
public static class ExternalTool
{
    /// <summary>
    /// The trait that names the tool a test class runs (<c>[Trait(ExternalTool.Requires, "kubectl")]</c>): the compose
    /// <c>tests</c> service, whose SDK image has neither kubectl nor promtool, leaves these out by name.
    /// </summary>
    public const string Requires = "Requires";

    public static ToolResult Run(string tool, string installHint, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException($"{tool} is not installed, so this deployment check cannot run. {installHint}", exception);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill();
                throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish within 60 s.");
            }

            return new ToolResult(process.ExitCode, output.Result, error.Result);
        }
    }
}

public sealed record ToolResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}: {Output}{Error}";
}
