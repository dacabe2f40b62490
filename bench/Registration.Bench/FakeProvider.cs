using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Registration.Bench;

/// <summary>
/// An in-process stand-in for the email provider (Mailpit's send API): records when each recipient's
/// email arrives, and can answer late to play a slow provider.
/// </summary>
public sealed class FakeProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _firstArrival = new(StringComparer.OrdinalIgnoreCase);
    private long _received;

    private FakeProvider(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>How long the provider waits before answering 200.</summary>
    public TimeSpan Delay { get; set; }

    public long Received => Interlocked.Read(ref _received);

    public int Distinct => _firstArrival.Count;

    public static async Task<FakeProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var provider = new FakeProvider(app);
        app.MapPost("/api/v1/send", provider.HandleAsync);
        await app.StartAsync();
        provider.BaseUrl = new Uri(app.Urls.First());
        return provider;
    }

    /// <summary>Stopwatch timestamp of the first email to <paramref name="email"/>, if any arrived.</summary>
    public bool TryGetArrival(string email, out long timestamp) => _firstArrival.TryGetValue(email, out timestamp);

    public void Reset()
    {
        _firstArrival.Clear();
        Interlocked.Exchange(ref _received, 0);
    }

    private async Task<IResult> HandleAsync(HttpRequest request)
    {
        var arrived = Stopwatch.GetTimestamp();
        using var body = await JsonDocument.ParseAsync(request.Body);
        var to = body.RootElement.GetProperty("To")[0].GetProperty("Email").GetString()!;
        _firstArrival.TryAdd(to, arrived);
        Interlocked.Increment(ref _received);
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }

        return Results.Json(new { ID = Guid.NewGuid().ToString("N") });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
