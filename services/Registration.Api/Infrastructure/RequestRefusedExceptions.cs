namespace Registration.Api.Infrastructure;

/// <summary>The service cannot take more work right now; answered 503 <c>unavailable</c> with <see cref="RetryAfter"/>.</summary>
public sealed class ServiceBusyException(string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter ?? TimeSpan.FromSeconds(1);
}

/// <summary>
/// This client (or this account) asked too much; answered 429 with <see cref="ProblemType"/> (by default
/// <c>too-many-requests</c>) and <see cref="RetryAfter"/>. Thrown where a handler cannot return a result,
/// e.g. from authentication or from the password hasher, before any expensive work.
/// </summary>
public sealed class TooManyRequestsException(string title, TimeSpan retryAfter, string problemType = ProblemTypes.TooManyRequests)
    : Exception(title)
{
    public TimeSpan RetryAfter { get; } = retryAfter;

    public string ProblemType { get; } = problemType;
}
