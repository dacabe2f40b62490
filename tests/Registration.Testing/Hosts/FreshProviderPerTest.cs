using Xunit;

namespace Registration.Testing.Hosts;

/// <summary>
/// A test class whose tests share a <see cref="TestEnvironment"/> but each start with a provider that
/// accepts and remembers nothing: what one test told it, or sent it, never reaches the next.
/// </summary>
public abstract class FreshProviderPerTest(TestEnvironment environment) : IClassFixture<TestEnvironment>, IAsyncLifetime
{
    /// <summary>The class's world (the fixture), shared by its tests.</summary>
    protected TestEnvironment Environment { get; } = environment;

    public Task InitializeAsync()
    {
        Environment.Provider.Reset();
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
