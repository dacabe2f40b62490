using Microsoft.AspNetCore.Mvc.Testing;

namespace Registration.Testing.Hosts;

/// <summary>
/// A test class's world with one API started in it: the class fixture of the API's tests. The API runs
/// on <see cref="TestEnvironment.ApiSettings"/> (operator key included) with the fake clock; a subclass
/// picks other settings in <see cref="Configure"/>, or real sockets through the constructor.
/// </summary>
public class ApiFixture : TestEnvironment
{
    private readonly bool _overHttp;

    public ApiFixture()
        : this(overHttp: false)
    {
    }

    /// <param name="overHttp">Real Kestrel sockets instead of the in-memory server.</param>
    protected ApiFixture(bool overHttp) => _overHttp = overHttp;

    public ApiHost Api { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Api = await StartApiAsync(Configure, overHttp: _overHttp);
    }

    public HttpClient CreateClient() => Api.CreateClient();

    public HttpClient CreateClient(WebApplicationFactoryClientOptions options) => Api.CreateClient(options);

    /// <inheritdoc cref="ApiHost.CreateStreamingClient"/>
    public HttpClient CreateStreamingClient() => Api.CreateStreamingClient();

    /// <summary>Changes to the API's settings, for a subclass.</summary>
    protected virtual void Configure(TestSettings settings)
    {
    }
}
