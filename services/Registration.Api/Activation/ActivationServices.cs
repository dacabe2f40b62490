using Npgsql;
using Registration.Api.Infrastructure;

namespace Registration.Api.Activation;

/// <summary>What the activation handlers use, bound with <c>[AsParameters]</c>; logs under <see cref="Log.Category"/>.</summary>
public sealed record ActivationServices(
    NpgsqlDataSource DataSource,
    ActivationCodeIssuer Issuer,
    CodeVerifier Verifier,
    TimeProvider Clock,
    RegistrationMetrics Metrics,
    ILoggerFactory LoggerFactory)
{
    public ILogger Logger { get; } = LoggerFactory.CreateLogger(Log.Category);
}
