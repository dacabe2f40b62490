namespace Notification.Worker.Consumers;

/// <summary>
/// Renews a claim every third of its lease while its send runs, so that a slow but live send (HTTP
/// retries, a slow provider) is never taken over; a worker that dies stops renewing and its claim ends
/// within one lease. A send that finishes within a third of the lease costs no renewal at all, and
/// nothing but a timer: no task waits on it and stopping it throws nothing (the pipeline benchmark's
/// profile showed a cancelled <see cref="PeriodicTimer"/> per email, an exception with its stack trace each time).
/// </summary>
internal sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly MessageClaims _claims;
    private readonly Claim _claim;
    private readonly Guid _userId;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _lease;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private Task _renewing = Task.CompletedTask;
    private CancellationTokenSource? _stop;
    private bool _stopped;

    public LeaseKeeper(MessageClaims claims, Claim claim, Guid userId, TimeProvider clock, TimeSpan lease, ILogger logger)
    {
        _claims = claims;
        _claim = claim;
        _userId = userId;
        _clock = clock;
        _lease = lease;
        _logger = logger;
        // The lease is on the business clock (as every claim is); the renewals run on the wall clock.
        _timer = TimeProvider.System.CreateTimer(static keeper => ((LeaseKeeper)keeper!).Tick(), this, lease / 3, lease / 3);
    }

    public async ValueTask DisposeAsync()
    {
        Task renewing;
        lock (_gate)
        {
            _stopped = true;
            renewing = _renewing;
            _stop?.Cancel();
        }

        await _timer.DisposeAsync();
        await renewing;
        _stop?.Dispose();
    }

    /// <summary>One renewal at a time: a tick while the previous one still runs is skipped.</summary>
    private void Tick()
    {
        lock (_gate)
        {
            if (_stopped || !_renewing.IsCompleted)
            {
                return;
            }

            _stop ??= new CancellationTokenSource();
            _renewing = RenewAsync(_stop.Token);
        }
    }

    private async Task RenewAsync(CancellationToken stop)
    {
        try
        {
            if (!await _claims.RenewAsync(_claim, _clock.GetUtcNow() + _lease, stop))
            {
                Log.ClaimLost(_logger, _userId, _claim.MessageId);
                lock (_gate)
                {
                    _stopped = true;
                }
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            Log.RenewFailed(_logger, ex, _userId, _claim.MessageId);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
