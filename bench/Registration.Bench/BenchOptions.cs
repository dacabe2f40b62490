using System.Globalization;

namespace Registration.Bench;

/// <summary>Command line: scenarios to run (default all) and the knobs of each.</summary>
public sealed record BenchOptions
{
    public static readonly string[] AllScenarios = ["hash", "register", "activate", "overload", "raw", "pipeline", "e2e"];

    public IReadOnlyList<string> Scenarios { get; init; } = AllScenarios;
    public bool Quick { get; init; }
    /// <summary>bcrypt work factors: hash, register, activate and overload run at each, in this order; the rest at the first.</summary>
    public IReadOnlyList<int> WorkFactors { get; init; } = [10, 12];
    public IReadOnlyList<int> OverloadFactors { get; init; } = [4, 16];
    public TimeSpan StepDuration { get; init; } = TimeSpan.FromSeconds(10);
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 2, 4, 8, 16, 32];
    public int PipelineMessages { get; init; } = 20_000;
    public IReadOnlyList<int> PipelineWorkers { get; init; } = [1, 2, 4];
    public IReadOnlyList<int> ProviderDelaysMs { get; init; } = [0, 100];
    public TimeSpan EndToEndDuration { get; init; } = TimeSpan.FromSeconds(60);
    public int WorkerConcurrency { get; init; } = 32;
    public string Configuration { get; init; } = "Release";

    public const string Usage = """
        usage: Registration.Bench [hash|register|activate|overload|raw|pipeline|e2e ...] [options]
          --quick                 short steps and small counts, work factor 10 only (about two minutes)
          --work-factor 10,12     bcrypt work factors (default 10,12)
          --overload 4,16         offered load of the overload scenario, in multiples of the bound (default 4,16)
          --step-seconds N        duration of each concurrency step (default 10)
          --concurrency 1,2,4     concurrency steps for register/activate (default 1,2,4,8,16,32)
          --messages N            messages per pipeline run (default 20000)
          --workers 1,2,4         worker instances for the pipeline (default 1,2,4)
          --provider-delays 0,100 provider answer delays in ms (default 0,100)
          --e2e-seconds N         duration of the end-to-end run (default 60)
          --worker-concurrency N  messages in flight per worker (default 32)
        Needs TEST_POSTGRES and TEST_RABBITMQ (scripts/bench.sh sets them) and Release builds of the
        API and the worker (scripts/bench.sh builds them).
        """;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        var scenarios = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            static int[] List(string value) => value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            options = arg switch
            {
                "--quick" => options with
                {
                    Quick = true,
                    StepDuration = TimeSpan.FromSeconds(3),
                    Concurrency = [1, 2, 4, 16],
                    WorkFactors = [10],
                    PipelineMessages = 2_000,
                    PipelineWorkers = [1, 2],
                    EndToEndDuration = TimeSpan.FromSeconds(10),
                },
                "--work-factor" => options with { WorkFactors = List(Next()) },
                "--overload" => options with { OverloadFactors = List(Next()) },
                "--step-seconds" => options with { StepDuration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                "--concurrency" => options with { Concurrency = List(Next()) },
                "--messages" => options with { PipelineMessages = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--workers" => options with { PipelineWorkers = List(Next()) },
                "--provider-delays" => options with { ProviderDelaysMs = List(Next()) },
                "--e2e-seconds" => options with { EndToEndDuration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                "--worker-concurrency" => options with { WorkerConcurrency = int.Parse(Next(), CultureInfo.InvariantCulture) },
                _ when AllScenarios.Contains(arg) => AddScenario(options, scenarios, arg),
                _ => throw new ArgumentException($"unknown argument '{arg}'"),
            };
        }

        return scenarios.Count > 0 ? options with { Scenarios = scenarios } : options;
    }

    private static BenchOptions AddScenario(BenchOptions options, List<string> scenarios, string scenario)
    {
        scenarios.Add(scenario);
        return options;
    }
}
