using System.Globalization;

namespace Registration.Testing.Settings;

/// <summary>
/// The knobs of a test run, read from environment variables (tests/README.md lists them): service logs
/// on the console, and the exploration mode of the property tests.
/// </summary>
public static class TestRun
{
    /// <summary><c>TEST_LOGS=1</c>: the in-process API's and workers' logs also go to the console.</summary>
    public const string LogsVariable = "TEST_LOGS";

    /// <summary><c>TEST_EXPLORE=1</c> (<c>./scripts/test.sh --explore</c>): property tests draw a random seed and run longer.</summary>
    public const string ExploreVariable = "TEST_EXPLORE";

    /// <summary><c>TEST_EXPLORE_MULTIPLIER=N</c>: how many times the CI's iterations exploration runs (default 10).</summary>
    public const string ExploreMultiplierVariable = "TEST_EXPLORE_MULTIPLIER";

    /// <summary><c>TEST_SEED=...</c>: the seed a property test starts from, to replay a reported failure.</summary>
    public const string SeedVariable = "TEST_SEED";

    private const int DefaultExploreMultiplier = 10;

    public static bool ShowServiceLogs => IsSet(LogsVariable);

    public static bool Explore => IsSet(ExploreVariable);

    public static int ExploreMultiplier =>
        int.TryParse(Environment.GetEnvironmentVariable(ExploreMultiplierVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var multiplier)
        && multiplier > 0
            ? multiplier
            : DefaultExploreMultiplier;

    public static string? Seed => Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } seed ? seed.Trim() : null;

    private static bool IsSet(string variable) => Environment.GetEnvironmentVariable(variable) is "1" or "true" or "yes";
}
