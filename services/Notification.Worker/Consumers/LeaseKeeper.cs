namespace Notification.Worker.Consumers;

/// <summary>
/// Renews a claim every third of its lease while its send runs, so that a slow but live send (HTTP
/// retries, a slow provider) is never taken over; a worker that dies stops renewing and its claim ends
/// within one lease. A send that finishes within a third of the lease costs no renewal at all.
/// </summary>
internal sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing;

    public LeaseKeeper(MessageClaims claims, Claim claim, Guid userId, TimeProvider clock, TimeSpan lease, ILogger logger) =>
        _renewing = RenewAsync(claims, claim, userId, clock, lease, logger, _stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewing;
        _stop.Dispose();
    }

    private static async Task RenewAsync(MessageClaims claims, Claim claim, Guid userId, TimeProvider clock, TimeSpan lease, ILogger logger, CancellationToken stop)
    {
        // The lease is on the business clock (as every claim is); the renewals run on the wall clock.
        using var timer = new PeriodicTimer(lease / 3, TimeProvider.System);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    if (!await claims.RenewAsync(claim, clock.GetUtcNow() + lease, stop))
                    {
                        Log.ClaimLost(logger, userId, claim.MessageId);
                        return;
                    }
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
                {
                    Log.RenewFailed(logger, ex, userId, claim.MessageId);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
