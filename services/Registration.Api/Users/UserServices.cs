using Npgsql;
using Registration.Api.Activation;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

/// <summary>What the account handlers use, bound with <c>[AsParameters]</c>; logs under <see cref="Log.Category"/>.</summary>
public sealed record UserServices(
    NpgsqlDataSource DataSource,
    PasswordHasher Hasher,
    ActivationCodeIssuer Issuer,
    CodeVerifier Verifier,
    AddressLimits AddressLimits,
    TimeProvider Clock,
    RegistrationMetrics Metrics,
    ILoggerFactory LoggerFactory)
{
    public ILogger Logger { get; } = LoggerFactory.CreateLogger(Log.Category);
}
