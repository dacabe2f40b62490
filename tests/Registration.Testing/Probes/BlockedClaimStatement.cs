using FluentAssertions;
using Notification.Worker.Consumers;
using Notification.Worker.Email;
using Notification.Worker.Email.Templates;

namespace Registration.Testing.Probes;

/// <summary>
/// A claim statement held up on purpose: it tries to take over a dead worker's claim on a row the test holds
/// locked, so it waits there. Claims made at the same <see cref="MessageClaims"/> meanwhile queue behind it and are
/// written together, in the statement after it, once this is disposed.
/// </summary>
public sealed class BlockedClaimStatement : IAsyncDisposable
{
    private readonly IAsyncDisposable _rowLock;
    private readonly Task<Claim> _blocked;

    private BlockedClaimStatement(IAsyncDisposable rowLock, Task<Claim> blocked)
    {
        _rowLock = rowLock;
        _blocked = blocked;
    }

    /// <summary>Starts the statement and returns once it waits for the row lock.</summary>
    public static async Task<BlockedClaimStatement> StartAsync(TestDatabase database, MessageClaims claims, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(claims);
        var messageId = Guid.NewGuid();
        var userId = Guid.NewGuid();
        await database.ClaimAsADeadWorkerAsync(messageId, userId, leaseUntil: now.AddSeconds(-1));
        var rowLock = await database.LockProcessedMessageAsync(messageId);
        var email = ActivationCodeTemplate.Render(messageId, userId, "blocked@example.test", new EmailCode("0427", now, now.AddMinutes(1)));
        var blocked = claims.ClaimAsync(messageId, email, now, now.AddSeconds(10), CancellationToken.None);
        await database.WaitForALockWaitAsync();
        return new BlockedClaimStatement(rowLock, blocked);
    }

    /// <summary>Lets the statement go; it ends having taken the dead worker's claim over.</summary>
    public async ValueTask DisposeAsync()
    {
        await _rowLock.DisposeAsync();
        (await _blocked).Outcome.Should().Be(ClaimOutcome.Claimed, "the blocked statement took over the dead worker's claim");
    }
}
