using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Resilience.Tests.Support;

/// <summary>
/// Registration.Api in memory, as Program.cs builds it (Production environment), with the settings the
/// scenario chose and, when given, a fake business clock.
/// </summary>
public sealed class ApiHost(IReadOnlyDictionary<string, string> settings, TimeProvider? clock) : WebApplicationFactory<Program>
{
    /// <summary>A client of the in-memory API; a hang shows as a timeout, not as a stuck test.</summary>
    public HttpClient CreateApiClient()
    {
        var client = CreateClient();
        client.Timeout = TimeSpan.FromSeconds(30);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (clock is not null)
        {
            builder.ConfigureTestServices(services =>
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton(clock);
            });
        }
    }
}
