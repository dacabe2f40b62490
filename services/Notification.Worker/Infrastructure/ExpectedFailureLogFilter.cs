using Microsoft.Extensions.DependencyInjection.Extensions;
using Notification.Worker.Consumers;

namespace Notification.Worker.Infrastructure;

/// <summary>
/// One log line per failed send. The consumer logs every failure it throws for MassTransit (transient,
/// permanent, throttled) with the user id, the message id and the provider's reason, redacted. MassTransit
/// would log the same failure again, as R-RETRY and R-FAULT with a stack trace of an expected outcome: those
/// lines are dropped. Every other MassTransit line, and any failure that is not one of the consumer's own (a
/// defect), is logged as before.
/// </summary>
internal sealed class ExpectedFailureLogFilter(ILoggerFactory inner) : ILoggerFactory
{
    /// <summary>Wraps the logger factory the host registered (the last registration of <see cref="ILoggerFactory"/>).</summary>
    public static void Register(IServiceCollection services)
    {
        var registered = services.Last(descriptor => descriptor.ServiceType == typeof(ILoggerFactory));
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(provider => new ExpectedFailureLogFilter(registered switch
        {
            { ImplementationInstance: ILoggerFactory instance } => instance,
            { ImplementationFactory: { } factory } => (ILoggerFactory)factory(provider),
            _ => (ILoggerFactory)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!),
        })));
    }

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return categoryName.StartsWith("MassTransit", StringComparison.Ordinal) ? new WithoutExpectedFailures(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    internal static bool IsExpectedFailure(Exception? exception) =>
        exception?.GetBaseException() is TransientEmailFailureException or PermanentEmailFailureException or ProviderThrottledException;

    private sealed class WithoutExpectedFailures(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsExpectedFailure(exception))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
