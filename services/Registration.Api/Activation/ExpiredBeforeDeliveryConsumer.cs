using Dapper;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Infrastructure;
using Registration.Api.Users;
using Registration.Contracts.V1;

namespace Registration.Api.Activation;

/// <summary>
/// The worker could not email a code before it expired (provider outage, dead-letter replay). If the user
/// is still pending and that code is still their latest, issue a fresh one (reason <c>redelivery</c>) so
/// they receive a code that works without having to ask. Bounded per user and hour, so a provider that
/// stays down cannot make codes loop forever.
/// </summary>
public sealed class ExpiredBeforeDeliveryConsumer(
    NpgsqlDataSource dataSource,
    ActivationCodeIssuer issuer,
    TimeProvider timeProvider,
    IOptions<ActivationOptions> options,
    ILoggerFactory loggerFactory) : IConsumer<ActivationCodeExpiredBeforeDelivery>
{
    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.Category);

    private const string LockUserSql = "SELECT email, status FROM users WHERE id = @Id FOR UPDATE";

    private const string LatestCodeSql = """
        SELECT expires_at, used_at IS NOT NULL AS used FROM activation_codes
        WHERE user_id = @UserId ORDER BY issued_at DESC LIMIT 1
        """;

    private const string RecentRedeliveriesSql = """
        SELECT count(*) FROM activation_codes
        WHERE user_id = @UserId AND reason = 'redelivery' AND issued_at > @Since
        """;

    public async Task Consume(ConsumeContext<ActivationCodeExpiredBeforeDelivery> context)
    {
        var message = context.Message;
        var cancellationToken = context.CancellationToken;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var user = await connection.QuerySingleOrDefaultAsync<UserState>(
            new CommandDefinition(LockUserSql, new { Id = message.UserId }, transaction, cancellationToken: cancellationToken));
        if (user is null || user.Status != UserStatus.Pending)
        {
            Log.RedeliveryIgnored(_logger, message.UserId, user is null ? "user deleted" : "already active");
            return;
        }

        var latest = await connection.QuerySingleOrDefaultAsync<LatestCode>(
            new CommandDefinition(LatestCodeSql, new { UserId = message.UserId }, transaction, cancellationToken: cancellationToken));
        if (latest is null || latest.Used || latest.ExpiresAt.AsUtc() > message.CodeExpiresAt)
        {
            Log.RedeliveryIgnored(_logger, message.UserId, "a newer code was issued");
            return;
        }

        var now = timeProvider.GetDatabaseNow();
        var recent = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            RecentRedeliveriesSql, new { UserId = message.UserId, Since = now.AddHours(-1) }, transaction, cancellationToken: cancellationToken));
        if (recent >= options.Value.MaxRedeliveryReissuesPerHour)
        {
            // Not dropped silently: the event goes to expired-before-delivery_error, where an operator
            // sees it and can replay it once the provider is healthy (the limit counts per hour).
            Log.RedeliveryIgnored(_logger, message.UserId, "redelivery limit per hour reached; sent to the error queue");
            throw new RedeliveryLimitReachedException(message.UserId);
        }

        await issuer.ReissueAsync(transaction, message.UserId, user.Email, ReissueReasons.Redelivery, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.CodeReissued(_logger, message.UserId, ReissueReasons.Redelivery);
    }

    private sealed record UserState(string Email, string Status);

    private sealed record LatestCode(DateTime ExpiresAt, bool Used);
}

/// <summary>A user's codes kept expiring before delivery: a provider outage needs an operator, not another code.</summary>
public sealed class RedeliveryLimitReachedException(Guid userId)
    : Exception($"User {userId} already had the maximum of fresh codes for codes that expired before delivery this hour.");

/// <summary>Retries a failed redelivery (a database blip) a few times before it goes to the error queue.</summary>
public sealed class ExpiredBeforeDeliveryConsumerDefinition : ConsumerDefinition<ExpiredBeforeDeliveryConsumer>
{
    public ExpiredBeforeDeliveryConsumerDefinition()
    {
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ExpiredBeforeDeliveryConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(100, 500, 2_000, 5_000);
            retry.Ignore<RedeliveryLimitReachedException>();
        });
    }
}
