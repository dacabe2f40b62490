using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Registration.Testing.Fakes;

/// <summary>
/// The third-party email API, faked at the HTTP level by a small Kestrel app on a loopback port: it
/// speaks Mailjet (<c>POST /v3.1/send</c>) and Mailpit (<c>POST /api/v1/send</c>), answers as a test
/// tells it (accept, fail, stall, a scripted sequence), and records every request. A request is
/// recorded before its answer is written, so whoever has the answer can already read the record.
/// Cheap enough for the benchmark: thousands of sends a second.
/// </summary>
public sealed class FakeEmailProvider : IAsyncDisposable
{
    public const string MailjetPath = "/v3.1/send";
    public const string MailpitPath = "/api/v1/send";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ProviderRequest> _requests = new();
    private readonly ConcurrentDictionary<string, ProviderRequest> _firstTo = new(StringComparer.OrdinalIgnoreCase);
    private Script _script = Script.Always(ProviderAnswer.Ok());
    private long _sequence;

    private FakeEmailProvider(WebApplication app) => _app = app;

    /// <summary>Where the worker sends (<c>Email:BaseUrl</c>).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request received so far, in arrival order; the record survives every change of answer.</summary>
    public IReadOnlyList<ProviderRequest> Requests => [.. _requests.OrderBy(request => request.Sequence)];

    /// <summary>The sends whose answer let the email go out.</summary>
    public IReadOnlyList<ProviderRequest> Delivered => [.. Requests.Where(request => request.Accepted)];

    public int RequestCount => _requests.Count;

    /// <summary>Addresses that received at least one request (cheap to poll).</summary>
    public int DistinctRecipients => _firstTo.Count;

    public static async Task<FakeEmailProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var provider = new FakeEmailProvider(app);
        app.Run(provider.HandleAsync);
        await app.StartAsync();
        provider.BaseUrl = new Uri(app.Urls.First());
        return provider;
    }

    public IReadOnlyList<ProviderRequest> DeliveredTo(string address) =>
        [.. Delivered.Where(request => string.Equals(request.To, address, StringComparison.OrdinalIgnoreCase))];

    /// <summary>Requests whose Mailjet CustomID or Mailpit tag is the MessageId.</summary>
    public IReadOnlyList<ProviderRequest> RequestsFor(Guid messageId) => [.. Requests.Where(request => request.IsFor(messageId))];

    /// <summary>The first request to <paramref name="address"/>, if any arrived.</summary>
    public bool TryGetFirstTo(string address, out ProviderRequest request) => _firstTo.TryGetValue(address, out request!);

    /// <summary>From now on every send gets <paramref name="answer"/>.</summary>
    public void Answer(ProviderAnswer answer) => Volatile.Write(ref _script, Script.Always(answer));

    /// <summary>From now on every send is accepted, after <paramref name="delay"/>.</summary>
    public void Accept(TimeSpan delay = default) => Answer(ProviderAnswer.Ok(delay));

    /// <summary>From now on every send is refused with <paramref name="status"/>.</summary>
    public void FailWith(int status, TimeSpan? retryAfter = null, string? body = null) => Answer(ProviderAnswer.Fail(status, retryAfter, body));

    /// <summary>The next sends get these answers in turn; the last one then stays.</summary>
    public void AnswerInSequence(params ProviderAnswer[] answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentOutOfRangeException.ThrowIfZero(answers.Length);
        Volatile.Write(ref _script, new Script(answers[..^1], answers[^1], []));
    }

    /// <summary>On top of the current answers: sends to an address containing <paramref name="addressPart"/> get <paramref name="answer"/>.</summary>
    public void AnswerFor(string addressPart, ProviderAnswer answer)
    {
        var current = Volatile.Read(ref _script);
        Volatile.Write(ref _script, current with { Rules = [.. current.Rules, (addressPart, answer)] });
    }

    /// <summary>Forgets every request and accepts again, for the next test of a class.</summary>
    public void Reset()
    {
        _requests.Clear();
        _firstTo.Clear();
        Accept();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var receivedAt = DateTime.UtcNow;
        var timestamp = Stopwatch.GetTimestamp();
        var path = context.Request.Path.Value ?? string.Empty;
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var known = HttpMethods.IsPost(context.Request.Method) && path is MailjetPath or MailpitPath;
        var (to, code, messageId) = known ? ProviderRequest.Read(body) : (null, null, null);
        var answer = known ? Volatile.Read(ref _script).Next(to) : ProviderAnswer.Fail(404, body: """{"ErrorMessage":"No such route"}""");
        var headers = context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new ProviderRequest(
            Interlocked.Increment(ref _sequence), receivedAt, timestamp, path, headers, body, to, code, messageId, answer.Status, answer.Delivers);
        _requests.Enqueue(request);
        if (to is not null)
        {
            _firstTo.TryAdd(to, request);
        }

        if (answer.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(answer.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // the client gave up; what it sent is recorded all the same
            }
        }

        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json";
        if (answer.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        await context.Response.WriteAsync(answer.Body ?? DefaultBody(path, answer, to, request.Sequence));
    }

    /// <summary>What the real API answers: Mailjet's per-message result, Mailpit's message ID, or an error text.</summary>
    private static string DefaultBody(string path, ProviderAnswer answer, string? to, long sequence) => answer switch
    {
        { Delivers: true } when path == MailpitPath => $$"""{"ID":"fake-{{sequence}}"}""",
        { Delivers: true } => $$"""{"Messages":[{"Status":"success","To":[{"Email":"{{JsonEncodedText.Encode(to ?? string.Empty)}}","MessageUUID":"fake-{{sequence}}","MessageID":{{sequence}}}]}]}""",
        { Status: >= 500 } => """{"ErrorMessage":"Service temporarily unavailable"}""",
        _ => $$"""{"ErrorMessage":"Refused with {{answer.Status}} by the fake provider"}""",
    };

    /// <summary>Immutable, swapped whole: a request reads one consistent set of answers without a lock.</summary>
    private sealed record Script(ProviderAnswer[] Sequence, ProviderAnswer Then, (string AddressPart, ProviderAnswer Answer)[] Rules)
    {
        private int _next = -1;

        public static Script Always(ProviderAnswer answer) => new([], answer, []);

        public ProviderAnswer Next(string? to)
        {
            foreach (var (addressPart, answer) in Rules)
            {
                if (to?.Contains(addressPart, StringComparison.OrdinalIgnoreCase) == true)
                {
                    return answer;
                }
            }

            if (Sequence.Length > 0)
            {
                var step = Interlocked.Increment(ref _next);
                if (step < Sequence.Length)
                {
                    return Sequence[step];
                }
            }

            return Then;
        }
    }
}
