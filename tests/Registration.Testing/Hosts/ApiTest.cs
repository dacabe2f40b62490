using Xunit;

namespace Registration.Testing.Hosts;

/// <summary>
/// A test class that talks to the API of its class fixture (an <see cref="ApiFixture"/> or a subclass with
/// other settings) through one client: the API tests' counterpart of <see cref="FreshProviderPerTest"/>.
/// </summary>
public abstract class ApiTest<TFixture>(TFixture environment) : IClassFixture<TFixture>
    where TFixture : ApiFixture
{
    /// <summary>The class's world (the fixture) with its API, shared by its tests.</summary>
    protected TFixture Environment { get; } = environment;

    /// <summary>A client of the fixture's API.</summary>
    protected HttpClient Client { get; } = environment.CreateClient();
}

/// <summary>An <see cref="ApiTest{TFixture}"/> on the API with the default test settings.</summary>
public abstract class ApiTest(ApiFixture environment) : ApiTest<ApiFixture>(environment);
