namespace Notification.Worker.Consumers;

/// <summary>The provider may accept the email later: MassTransit retries the message, then dead-letters it.</summary>
public sealed class TransientEmailFailureException : Exception
{
    public TransientEmailFailureException(string message) : base(message) { }

    public TransientEmailFailureException() { }

    public TransientEmailFailureException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// The provider refused the email for good (4xx other than 408/429, or a rejected message):
/// no retry, the message goes straight to the error queue with this reason.
/// </summary>
public sealed class PermanentEmailFailureException : Exception
{
    public PermanentEmailFailureException(string message) : base(message) { }

    public PermanentEmailFailureException() { }

    public PermanentEmailFailureException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// The provider kept asking this message to wait (429/503 with a long Retry-After) more often than the
/// message retries allow: no in-memory retry (it would not wait as asked), straight to the error queue.
/// </summary>
public sealed class ProviderThrottledException : Exception
{
    public ProviderThrottledException(string message) : base(message) { }

    public ProviderThrottledException() { }

    public ProviderThrottledException(string message, Exception innerException) : base(message, innerException) { }
}
