namespace Registration.Testing.Settings;

/// <summary>
/// The knobs of a test run, read from environment variables (tests/README.md lists them): service logs
/// on the console, and the exploration mode of the property tests.
/// </summary>
public static class TestRun
{
    /// <summary><c>TEST_SEED</c>: the seed a property test starts from, to replay a reported failure.</summary>
    public const string SeedVariable = "TEST_SEED";

    /// <summary><c>TEST_LOGS=1</c>: the in-process API's and workers' logs also go to the console.</summary>
    public static bool ShowServiceLogs => IsSet("TEST_LOGS");

    /// <summary><c>TEST_EXPLORE=1</c> (<c>./scripts/test.sh --explore</c>): property tests draw a random seed and run longer.</summary>
    public static bool Explore => IsSet("TEST_EXPLORE");

    /// <summary><c>TEST_EXPLORE_MULTIPLIER=N</c>: how many times the CI's inputs exploration runs (default 10).</summary>
    public static int ExploreMultiplier =>
        int.TryParse(Environment.GetEnvironmentVariable("TEST_EXPLORE_MULTIPLIER"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var multiplier)
        && multiplier > 0
            ? multiplier
            : 10;

    public static string? Seed => Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } seed ? seed.Trim() : null;

    private static bool IsSet(string variable) => Environment.GetEnvironmentVariable(variable) is "1" or "true" or "yes";
}
