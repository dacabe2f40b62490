using CsCheck;

namespace Registration.Testing.PropertyTests;

/// <summary>
/// Runs a property test over generated inputs, one after another, all drawn from one seed. In CI the
/// seed is the test's own fixed one, so every run sends the same inputs and a red build is never a
/// roll of the dice. <c>TEST_EXPLORE=1</c> (<c>./scripts/test.sh --explore</c>) draws a random seed and
/// runs <see cref="TestRun.ExploreMultiplier"/> times as many inputs, to find what the fixed seed never
/// reaches; <c>TEST_SEED</c> replays a run. The seed and the count are written to the test's output,
/// and a failure names the seed that starts with the failing input.
/// </summary>
/// <remarks>
/// CsCheck's own Sample takes a seed for its first input only and draws the rest at random, which is
/// why the inputs are generated here. No shrinking: the inputs hit a live service whose state moves on.
/// </remarks>
public static class PropertyCheck
{
    public static async Task RunAsync<T>(
        Gen<T> gen, Func<T, Task> check, int iterations, string fixedSeed, Action<string> writeLine, Func<T, string>? print = null)
    {
        ArgumentNullException.ThrowIfNull(gen);
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(writeLine);
        print ??= input => input?.ToString() ?? "null";

        var seed = TestRun.Seed ?? (TestRun.Explore ? NewSeed() : fixedSeed);
        var count = TestRun.Explore ? iterations * TestRun.ExploreMultiplier : iterations;
        var mode = TestRun.Explore ? $"exploring: {TestRun.ExploreMultiplier} x {iterations} iterations" : "fixed seed";
        writeLine($"Property run: seed {seed}, {count} inputs ({mode}). Replay with {TestRun.SeedVariable}={seed}.");

        var pcg = PCG.Parse(seed);
        for (var input = 1; input <= count; input++)
        {
            var inputSeed = pcg.ToString(pcg.State);
            var value = gen.Generate(pcg, null, out _);
            try
            {
                await check(value);
            }
            catch (Exception exception)
            {
                throw new PropertyFailedException(
                    $"Input {input} of {count} failed (run seed {seed}). {TestRun.SeedVariable}={inputSeed} starts a run with this input."
                    + $"{Environment.NewLine}Input: {print(value)}{Environment.NewLine}{exception.Message}",
                    exception);
            }
        }
    }

    private static string NewSeed() => new PCG((uint)Random.Shared.Next(), (ulong)Random.Shared.NextInt64()).ToString();
}

public sealed class PropertyFailedException : Exception
{
    public PropertyFailedException()
    {
    }

    public PropertyFailedException(string message) : base(message)
    {
    }

    public PropertyFailedException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
