using System.Runtime.InteropServices;
using Registration.Bench;

// The bare consumer of the raw scenario runs as a child process of the benchmark (see RawConsumer).
if (args is [RawConsumer.Command, ..])
{
    return await RawConsumer.RunAsync(args);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception exception) when (exception is ArgumentException or FormatException)
{
    Console.Error.WriteLine(exception.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

Console.WriteLine($"# Registration benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, " +
                  $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024 * 1024)} GiB; scenarios: {string.Join(", ", options.Scenarios)}" +
                  (options.Quick ? " (quick)" : ""));

await using var environment = await BenchEnvironment.StartAsync();
await environment.StartApiAsync(options.WorkFactor);
// A worker drains the registrations' outbox as in production (and keeps the broker from returning
// unroutable messages); the pipeline and e2e scenarios start their own.
await environment.StartWorkersAsync(1, options.WorkerConcurrency);
var scenarios = new Scenarios(environment, options);
foreach (var scenario in options.Scenarios)
{
    switch (scenario)
    {
        case "hash":
            scenarios.Hash();
            break;
        case "register":
            await scenarios.RegisterAsync();
            break;
        case "activate":
            await scenarios.ActivateAsync();
            break;
        case "raw":
            await scenarios.RawAsync();
            break;
        case "pipeline":
            await scenarios.PipelineAsync();
            break;
        case "e2e":
            await scenarios.EndToEndAsync();
            break;
    }
}

return 0;
