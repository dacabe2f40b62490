using System.Diagnostics;
using System.Security.Cryptography;
using MassTransit;
using Microsoft.Extensions.Options;
using Notification.Worker.Email;
using Notification.Worker.Email.Templates;
using Notification.Worker.Infrastructure;
using Notification.Worker.Redelivery;
using Registration.Contracts.V1;

namespace Notification.Worker.Consumers;

/// <summary>
/// Emails what the account events ask for, once per MessageId: an activation code, the code that
/// confirms a new address, or the notice to an old address that it no longer signs in. A code is
/// never emailed after it expired: a late one is answered with
/// <see cref="ActivationCodeExpiredBeforeDelivery"/> so that the API issues a fresh one.
/// </summary>
/// <remarks>
/// Named after its queue, <c>activation-email</c>, which operators, the dead-letter tooling and the
/// autoscaler know by that name. Failures are exceptions on purpose, for MassTransit: a transient one
/// is retried with growing intervals (see <see cref="ActivationEmailConsumerDefinition"/>) and then
/// dead-lettered; a permanent one is dead-lettered at once with the provider's reason.
/// </remarks>
public sealed class ActivationEmailConsumer(
    IEmailSender sender,
    MessageClaims claims,
    WaitQueues waitQueues,
    TimeProvider clock,
    IOptions<ConsumerOptions> options,
    NotificationMetrics metrics,
    ILogger<ActivationEmailConsumer> logger)
    : IConsumer<UserRegistered>, IConsumer<ActivationCodeReissued>, IConsumer<EmailChangeRequested>, IConsumer<EmailChanged>
{
    private static readonly TimeSpan MaxSendWindow = TimeSpan.FromDays(7);

    /// <summary>How often a copy whose message another worker holds looks again: at most once a second, and when the lease ends.</summary>
    private static readonly TimeSpan HeldPollInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan HeldPollMinimum = TimeSpan.FromMilliseconds(50);

    private readonly TimeSpan _lease = options.Value.ClaimLease;

    // The message retries after a transient failure, and the waits a provider may ask for: one limit.
    private readonly int _messageRetryLimit = options.Value.MessageRetryLimit;

    public Task Consume(ConsumeContext<UserRegistered> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        return SendActivationCodeAsync(context, message.UserId, message.Email, new EmailCode(message.ActivationCode, message.OccurredAt, message.CodeExpiresAt));
    }

    public Task Consume(ConsumeContext<ActivationCodeReissued> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        return SendActivationCodeAsync(context, message.UserId, message.Email, new EmailCode(message.ActivationCode, message.OccurredAt, message.CodeExpiresAt));
    }

    public Task Consume(ConsumeContext<EmailChangeRequested> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        return HandleAsync(context, EmailChangeCodeTemplate.Render(
            context.MessageId, message.UserId, message.NewEmail, new EmailCode(message.ConfirmationCode, message.OccurredAt, message.CodeExpiresAt)));
    }

    public Task Consume(ConsumeContext<EmailChanged> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        return HandleAsync(context, EmailChangedNoticeTemplate.Render(
            context.MessageId, message.UserId, message.OldEmail, message.NewEmail, message.OccurredAt));
    }

    /// <summary>A code that activates the account, first issued or reissued: the same email either way.</summary>
    private Task SendActivationCodeAsync(ConsumeContext context, Guid userId, string address, EmailCode code) =>
        HandleAsync(context, ActivationCodeTemplate.Render(context.MessageId, userId, address, code));

    private async Task HandleAsync(ConsumeContext context, OutgoingEmail email)
    {
        // A copy back from one hop of a longer wait (see WaitQueues) goes on waiting.
        if (WaitQueues.DueAt(context) is { } dueAt && dueAt > TimeProvider.System.GetUtcNow())
        {
            await waitQueues.WaitAsync(context, dueAt, WaitQueues.Deferrals(context), context.CancellationToken);
            return;
        }

        Claim? claim = null;
        if (context.MessageId is not { } messageId)
        {
            Log.NoMessageId(logger, email.UserId);
        }
        else
        {
            claim = await ClaimAsync(messageId, email, context.CancellationToken);
            if (claim is null)
            {
                return;
            }
        }

        var completed = false;
        try
        {
            completed = await DeliverAsync(context, email, claim);
        }
        finally
        {
            if (claim is not null && !completed)
            {
                await ReleaseAsync(claim, email.UserId);
            }
        }
    }

    /// <summary>
    /// The claim that lets this worker send, or null when there is nothing to send: the message was handled
    /// already, or a newer code went out for the same user and address. A copy that another worker holds is
    /// neither sent nor acked: it waits here until the holder finishes (then it is a duplicate) or its lease
    /// runs out (the holder died; then this worker takes it over).
    /// </summary>
    private async Task<Claim?> ClaimAsync(Guid messageId, OutgoingEmail email, CancellationToken cancellationToken)
    {
        var waited = false;
        while (true)
        {
            var now = clock.GetUtcNow();
            var claim = await claims.ClaimAsync(messageId, email, now, now + _lease, cancellationToken);
            switch (claim.Outcome)
            {
                case ClaimOutcome.Claimed:
                    return claim;
                case ClaimOutcome.AlreadyHandled:
                    Log.AlreadyHandled(logger, messageId, email.UserId);
                    metrics.DuplicateSkipped();
                    return null;
                case ClaimOutcome.Superseded:
                    Log.Superseded(logger, email.Kind, email.UserId, messageId);
                    metrics.Superseded();
                    return null;
                default:
                    if (!waited)
                    {
                        Log.HeldElsewhere(logger, messageId, email.UserId, claim.LeaseUntil);
                        waited = true;
                    }

                    var untilLeaseEnds = claim.LeaseUntil is { } until ? until - now : _lease;
                    var pause = TimeSpan.FromTicks(Math.Clamp(untilLeaseEnds.Ticks, HeldPollMinimum.Ticks, HeldPollInterval.Ticks));
                    await Task.Delay(pause, TimeProvider.System, cancellationToken);
                    break;
            }
        }
    }

    /// <summary>
    /// Sends the email, or reports its code expired: true once the outcome is recorded. False when the provider
    /// asked to wait and the message will come back then (its claim is released). Failures throw.
    /// </summary>
    private async Task<bool> DeliverAsync(ConsumeContext context, OutgoingEmail email, Claim? claim)
    {
        var cancellationToken = context.CancellationToken;
        var messageId = context.MessageId;
        var userId = email.UserId;

        // Checked on every delivery and every retry: a retry may come after the code died.
        var now = clock.GetUtcNow();
        if (email.Code is { } code && code.ExpiresAt <= now)
        {
            await ReportExpiredAsync(context, email, code, claim, cancellationToken);
            return true;
        }

        // A send still under way when its code expires is abandoned: its retries must not deliver a
        // dead code. (Capped: a timer takes at most ~49 days, a send far less.) A notice has no deadline.
        var remaining = email.Code is { } expiring ? expiring.ExpiresAt - now : MaxSendWindow;
        using var untilExpiry = new CancellationTokenSource(remaining < MaxSendWindow ? remaining : MaxSendWindow, clock);
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, untilExpiry.Token);
        EmailSendResult result;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var keepAlive = claim is null ? null : new LeaseKeeper(claims, claim, userId, clock, _lease, logger);
            result = await sender.SendAsync(email, sending.Token);
        }
        catch (OperationCanceledException) when (untilExpiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await ReportExpiredAsync(context, email, email.Code!, claim, cancellationToken);
            return true;
        }

        switch (result.Outcome)
        {
            case EmailSendOutcome.Accepted:
                Log.EmailSent(logger, email.Kind, userId, messageId);
                metrics.Sent(Stopwatch.GetElapsedTime(started));
                await RecordSentAsync(claim, userId);
                return true;
            case EmailSendOutcome.TransientFailure when result.RetryAfter is { } wait:
                metrics.Failed(permanent: false);
                return await DeferAsync(context, email, claim, result.Reason, wait);
            case EmailSendOutcome.PermanentFailure:
                Log.PermanentFailure(logger, email.Kind, userId, messageId, result.Reason);
                metrics.Failed(permanent: true);
                throw new PermanentEmailFailureException(result.Reason ?? "The provider refused the email.");
            default:
                // One line per failed attempt (MassTransit's own retry and fault lines are left out): the last
                // one says where the message went.
                var attempt = context.GetRetryAttempt();
                if (attempt < _messageRetryLimit)
                {
                    Log.TransientFailure(logger, email.Kind, userId, messageId, attempt + 1, result.Reason);
                }
                else
                {
                    Log.DeadLettered(logger, email.Kind, userId, messageId, attempt + 1, result.Reason);
                }

                metrics.Failed(permanent: false);
                throw new TransientEmailFailureException(result.Reason ?? "The provider did not accept the email.");
        }
    }

    /// <summary>
    /// The provider asked to wait longer than the HTTP retries do (a 429 or 503 with a long Retry-After): the
    /// message comes back no sooner than asked, through a wait queue, unless its code would be dead by then
    /// (then the API is asked for a fresh one now) or the provider has made it wait too often already
    /// (Consumer:MessageRetryLimit times; then it is dead-lettered).
    /// </summary>
    private async Task<bool> DeferAsync(ConsumeContext context, OutgoingEmail email, Claim? claim, string? reason, TimeSpan wait)
    {
        var cancellationToken = context.CancellationToken;
        if (email.Code is { } code && code.ExpiresAt <= clock.GetUtcNow() + wait)
        {
            await ReportExpiredAsync(context, email, code, claim, cancellationToken);
            return true;
        }

        var deferrals = WaitQueues.Deferrals(context) + 1;
        if (deferrals > _messageRetryLimit)
        {
            Log.ThrottledTooOften(logger, email.Kind, email.UserId, context.MessageId, deferrals - 1, reason);
            throw new ProviderThrottledException($"{reason}; the provider made this message wait {deferrals - 1} time(s) already");
        }

        Log.Deferred(logger, email.Kind, email.UserId, context.MessageId, wait, reason);
        metrics.Deferred();
        await waitQueues.WaitAsync(context, TimeProvider.System.GetUtcNow() + wait, deferrals, cancellationToken);
        return false;
    }

    private async Task RecordSentAsync(Claim? claim, Guid userId)
    {
        if (claim is null)
        {
            return;
        }

        // The email is out: neither a stopping host nor a database hiccup may turn this into a retry,
        // which would send it again. Failing to record is logged and the message acked.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            if (!await claims.CompleteAsync(claim, MessageClaims.Sent, timeout.Token))
            {
                Log.ClaimLost(logger, userId, claim.MessageId);
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException)
        {
            Log.RecordFailed(logger, ex, userId, claim.MessageId);
        }
    }

    /// <summary>
    /// Hands an unsent message back (a failure before its retry, a shutdown): the retry or the next delivery
    /// claims it again at once. If this fails the claim still ends with its lease.
    /// </summary>
    private async Task ReleaseAsync(Claim claim, Guid userId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await claims.ReleaseAsync(claim, timeout.Token);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException)
        {
            Log.ReleaseFailed(logger, ex, userId, claim.MessageId);
        }
    }

    /// <summary>
    /// The code died before it could be emailed: nothing is sent, and the API is told, so that it issues a
    /// fresh code to the same address (the new address of an email change).
    /// </summary>
    private async Task ReportExpiredAsync(ConsumeContext context, OutgoingEmail email, EmailCode code, Claim? claim, CancellationToken cancellationToken)
    {
        var messageId = context.MessageId;
        Log.CodeExpired(logger, email.Kind, email.UserId, code.ExpiresAt, messageId);
        metrics.ExpiredBeforeDelivery();
        var now = clock.GetUtcNow();
        await context.Publish(
            new ActivationCodeExpiredBeforeDelivery(email.UserId, email.To, code.ExpiresAt, now),
            publish =>
            {
                // Stable per original message: a redelivery republishes the same event, which
                // the API can recognise.
                if (messageId is { } id)
                {
                    publish.MessageId = ExpiredEventId(id);
                }
            },
            cancellationToken);

        if (claim is not null)
        {
            await claims.CompleteAsync(claim, MessageClaims.Expired, cancellationToken);
        }
    }

    /// <summary>A deterministic id derived from the late message's id.</summary>
    internal static Guid ExpiredEventId(Guid messageId)
    {
        Span<byte> input = stackalloc byte[32];
        messageId.TryWriteBytes(input);
        "expired-before-delivery"u8[..16].CopyTo(input[16..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return new Guid(hash[..16]);
    }
}
