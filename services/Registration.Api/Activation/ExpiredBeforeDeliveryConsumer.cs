using Dapper;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Infrastructure;
using Registration.Api.Users;
using Registration.Contracts.V1;

namespace Registration.Api.Activation;

/// <summary>
/// The worker could not email a code before it expired (provider outage, dead-letter replay). If that code is
/// still the user's latest and still wanted, issue a fresh one so they receive a code that works without
/// having to ask: an activation code (<c>ActivationCodeReissued</c>, reason <c>redelivery</c>) for a pending
/// user, a confirmation code (<c>EmailChangeRequested</c> again) for an active user whose change to that
/// address still awaits confirmation. Bounded per user and hour, so a provider that stays down cannot make
/// codes loop forever; and by the address's daily number of codes: past it nothing is sent (logged, counted).
/// </summary>
public sealed class ExpiredBeforeDeliveryConsumer(
    NpgsqlDataSource dataSource,
    ActivationCodeIssuer issuer,
    TimeProvider timeProvider,
    IOptions<ActivationOptions> options,
    RegistrationMetrics metrics,
    ILoggerFactory loggerFactory) : IConsumer<ActivationCodeExpiredBeforeDelivery>
{
    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.Category);

    private const string LockedColumns = "email, status, pending_email";

    private const string LatestCodeSql = """
        SELECT expires_at, purpose, used_at IS NOT NULL AS used FROM activation_codes
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
        await using var locked = await UserLock.BeginAsync<UserState>(dataSource, message.UserId, LockedColumns, cancellationToken);
        var user = locked.Row;
        // A pending user waits for an activation code at their address; an active one for a confirmation code at
        // the address of the change they asked for, and only while that change is still pending.
        var wanted = user switch
        {
            null => null,
            { Status: UserStatus.Pending } => CodePurposes.Activation,
            { PendingEmail: { } pending } when EmailAddress.KeyOf(pending) == EmailAddress.KeyOf(message.Email) => CodePurposes.EmailChange,
            _ => null,
        };
        if (wanted is null)
        {
            Log.RedeliveryIgnored(_logger, message.UserId, user is null ? "user deleted" : "no code is awaited at that address");
            return;
        }

        var latest = await locked.Connection.QuerySingleOrDefaultAsync<LatestCode>(
            new CommandDefinition(LatestCodeSql, new { UserId = message.UserId }, locked.Transaction, cancellationToken: cancellationToken));
        if (latest is null || latest.Used || latest.Purpose != wanted || latest.ExpiresAt.AsUtc() > message.CodeExpiresAt)
        {
            Log.RedeliveryIgnored(_logger, message.UserId, "a newer code was issued");
            return;
        }

        var now = timeProvider.GetDatabaseNow();
        var recent = await locked.Connection.ExecuteScalarAsync<long>(new CommandDefinition(
            RecentRedeliveriesSql, new { UserId = message.UserId, Since = now.AddHours(-1) }, locked.Transaction, cancellationToken: cancellationToken));
        if (recent >= options.Value.MaxRedeliveryReissuesPerHour)
        {
            // Not dropped silently: the event goes to expired-before-delivery_error, where an operator
            // sees it and can replay it once the provider is healthy (the limit counts per hour).
            Log.RedeliveryIgnored(_logger, message.UserId, "redelivery limit per hour reached; sent to the error queue");
            throw new RedeliveryLimitReachedException(message.UserId);
        }

        var outcome = wanted == CodePurposes.Activation
            ? await issuer.ReissueAsync(locked.Transaction, message.UserId, user!.Email, ReissueReasons.Redelivery, now, cancellationToken)
            : await issuer.IssueEmailChangeAsync(locked.Transaction, message.UserId, user!.PendingEmail!, ReissueReasons.Redelivery, now, cancellationToken);
        if (outcome.RetryAfter is not null)
        {
            // The address had its daily number of codes: nothing is sent, by design (the user can ask again
            // once the window allows). Acknowledged, not retried: retrying would not change the count.
            metrics.AddressLimitReached(AddressLimits.CodeSent);
            Log.RedeliveryIgnored(_logger, message.UserId, "the address had its daily number of codes; nothing sent");
            return;
        }

        await locked.Transaction.CommitAsync(cancellationToken);
        Log.CodeReissued(_logger, message.UserId, ReissueReasons.Redelivery);
    }

    private sealed record UserState(string Email, string Status, string? PendingEmail);

    private sealed record LatestCode(DateTime ExpiresAt, string Purpose, bool Used);
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
