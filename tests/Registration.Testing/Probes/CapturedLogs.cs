using Microsoft.Extensions.Logging;

namespace Registration.Testing.Probes;

/// <summary>Keeps a host's log lines in memory: the services' own account of what they did.</summary>
public sealed class CapturedLogs(string host) : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public string Host { get; } = host;

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs._lines.Enqueue(new LogLine(DateTime.UtcNow, logs.Host, category, logLevel, eventId.Id, eventId.Name, formatter(state, exception)));
    }
}

/// <param name="EventName">The [LoggerMessage] method's name unless the service names the event otherwise.</param>
public sealed record LogLine(DateTime At, string Host, string Category, LogLevel Level, int EventId, string? EventName, string Message);
