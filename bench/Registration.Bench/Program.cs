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
await environment.StartApiAsync(options.WorkFactors[0]);
// A worker drains the registrations' outbox as in production (and keeps the broker from returning
// unroutable messages); the pipeline and e2e scenarios start their own.
await environment.StartWorkersAsync(1, options.WorkerConcurrency);
var scenarios = new Scenarios(environment, options);
string[] perWorkFactor = ["hash", "register", "activate", "overload"];
var bcryptScenarios = options.Scenarios.Where(perWorkFactor.Contains).ToList();
if (bcryptScenarios.Count > 0)
{
    foreach (var workFactor in options.WorkFactors)
    {
        if (workFactor != scenarios.WorkFactor)
        {
            await environment.StartApiAsync(workFactor);
            await environment.StartWorkersAsync(1, options.WorkerConcurrency);
            scenarios.UseWorkFactor(workFactor);
        }

        foreach (var scenario in bcryptScenarios)
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
                case "overload":
                    await scenarios.OverloadAsync();
                    break;
            }
        }
    }
}

if (scenarios.WorkFactor != options.WorkFactors[0] && options.Scenarios.Contains("e2e"))
{
    // The end-to-end latency at the first work factor (the default, 10).
    await environment.StartApiAsync(options.WorkFactors[0]);
    scenarios.UseWorkFactor(options.WorkFactors[0]);
}

foreach (var scenario in options.Scenarios.Except(perWorkFactor))
{
    switch (scenario)
    {
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
