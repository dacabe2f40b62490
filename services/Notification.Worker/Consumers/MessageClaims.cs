using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Notification.Worker.Email;
using Npgsql;

namespace Notification.Worker.Consumers;

/// <summary>What a claim found: send, or why not.</summary>
public enum ClaimOutcome
{
    /// <summary>This worker holds the message until it completes or releases it, or its lease runs out.</summary>
    Claimed,

    /// <summary>Already sent (or its code reported expired, or superseded): a redelivered copy, nothing to do.</summary>
    AlreadyHandled,

    /// <summary>A code older than one already handled for the same user and address: recorded, not sent.</summary>
    Superseded,

    /// <summary>Another worker holds it under a live lease: not done yet, so this copy must wait, not be acked.</summary>
    HeldElsewhere,
}

/// <param name="Token">Names this holder: only it can complete, renew or release the claim.</param>
/// <param name="LeaseUntil">When a claim <see cref="ClaimOutcome.HeldElsewhere"/> may be taken over, if known.</param>
public sealed record Claim(ClaimOutcome Outcome, Guid MessageId, Guid Token, DateTimeOffset? LeaseUntil);

/// <summary>
/// <c>notification.processed_messages</c>: which MessageIds are being sent, by whom, and how each
/// ended. A worker claims a message in one statement before it sends (that statement also tells
/// whether a newer code for the same user and address was already handled), and records the
/// outcome after: at most two statements per email, since the records of concurrent sends share one
/// (see <see cref="CompleteAsync"/>). A claim is a lease: a worker that dies holding it blocks the
/// message only until <c>lease_until</c>.
/// </summary>
public sealed class MessageClaims(NpgsqlDataSource dataSource)
{
    public const string Claimed = "claimed";
    public const string Sent = "sent";
    public const string Expired = "expired";
    public const string Superseded = "superseded";

    // One statement, so one round trip and no window between the check and the claim:
    // - newer: has a code issued after this one already been handled for the same user and address?
    //   (null for a notice: it carries no code, it neither supersedes nor is superseded);
    // - claim: insert the row, or take over a claim whose lease ran out. ON CONFLICT makes two
    //   workers' inserts of one MessageId wait for each other: exactly one of them claims it;
    // - the existing row, when the claim took nothing: how the message ended, or whose it is. It comes
    //   from the statement's snapshot, so a claim committed by another worker during this statement is
    //   not in it: no row at all then means "held elsewhere" too.
    private const string ClaimSql = """
        WITH newer AS (
            SELECT EXISTS (
                SELECT FROM notification.processed_messages
                WHERE user_id = @UserId AND recipient_hash = @RecipientHash AND code_issued_at > @CodeIssuedAt
            ) AS found
        ),
        claim AS (
            INSERT INTO notification.processed_messages AS p
                (message_id, user_id, recipient_hash, code_issued_at, outcome, processed_at, lease_token, lease_until)
            SELECT @MessageId, @UserId, @RecipientHash, @CodeIssuedAt,
                   CASE WHEN newer.found THEN 'superseded' ELSE 'claimed' END,
                   @Now,
                   CASE WHEN newer.found THEN NULL ELSE @Token END,
                   CASE WHEN newer.found THEN NULL ELSE @LeaseUntil END
            FROM newer
            ON CONFLICT (message_id) DO UPDATE
                SET outcome = excluded.outcome, processed_at = excluded.processed_at,
                    lease_token = excluded.lease_token, lease_until = excluded.lease_until
                WHERE p.outcome = 'claimed' AND p.lease_until <= @Now
            RETURNING p.outcome
        )
        SELECT (SELECT outcome FROM claim) AS taken, existing.outcome AS existing, existing.lease_until AS leaseuntil
        FROM (SELECT 1) AS one
        LEFT JOIN notification.processed_messages existing ON existing.message_id = @MessageId
        """;

    // The records waiting when the statement is written, in one: each row only if its claim is still the
    // holder's (its token); the tokens returned are the claims recorded.
    private const string CompleteSql = """
        UPDATE notification.processed_messages AS p
        SET outcome = r.outcome, processed_at = r.now, lease_token = NULL, lease_until = NULL
        FROM unnest(@MessageIds, @Tokens, @Outcomes, @Nows) AS r(message_id, token, outcome, now)
        WHERE p.message_id = r.message_id AND p.lease_token = r.token
        RETURNING r.token
        """;

    /// <summary>Records written in one statement at most; more wait for the next.</summary>
    private const int MaxRecordsPerStatement = 64;

    private static readonly TimeSpan RecordTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<PendingRecord> _records = new();
    private int _recording;

    private const string RenewSql = """
        UPDATE notification.processed_messages SET lease_until = @LeaseUntil
        WHERE message_id = @MessageId AND lease_token = @Token AND outcome = 'claimed'
        """;

    private const string ReleaseSql = """
        DELETE FROM notification.processed_messages
        WHERE message_id = @MessageId AND lease_token = @Token AND outcome = 'claimed'
        """;

    private const string PurgeSql = """
        DELETE FROM notification.processed_messages WHERE processed_at < @Cutoff
        """;

    /// <summary>Claims <paramref name="messageId"/> for <paramref name="email"/> until <paramref name="leaseUntil"/>, unless it is done, superseded or held.</summary>
    public async Task<Claim> ClaimAsync(Guid messageId, OutgoingEmail email, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        var token = Guid.NewGuid();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<ClaimRow>(new CommandDefinition(
            ClaimSql,
            new
            {
                MessageId = messageId,
                email.UserId,
                RecipientHash = email.Code is null ? null : RecipientHash(email.To),
                CodeIssuedAt = email.Code?.IssuedAt,
                Now = now,
                Token = token,
                LeaseUntil = leaseUntil,
            },
            cancellationToken: cancellationToken));

        var outcome = (row.Taken, row.Existing) switch
        {
            (Claimed, _) => ClaimOutcome.Claimed,
            (Superseded, _) => ClaimOutcome.Superseded,
            (null, Sent or Expired or Superseded) => ClaimOutcome.AlreadyHandled,
            _ => ClaimOutcome.HeldElsewhere,
        };
        var heldUntil = row.LeaseUntil is { } until ? new DateTimeOffset(DateTime.SpecifyKind(until, DateTimeKind.Utc)) : (DateTimeOffset?)null;
        return new Claim(outcome, messageId, token, outcome == ClaimOutcome.HeldElsewhere ? heldUntil : leaseUntil);
    }

    /// <summary>
    /// Records how the claimed message ended (<see cref="Sent"/>, <see cref="Expired"/>); false when the claim was
    /// lost meanwhile. Records of concurrent sends share a statement: one is written at once when none is being
    /// written; those that arrive meanwhile wait for it and then go together (so a lone email waits for nothing,
    /// and under load an email costs its claim and a share of a record). A failed statement fails each of its records.
    /// </summary>
    public Task<bool> CompleteAsync(Claim claim, string outcome, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var record = new PendingRecord(claim.MessageId, claim.Token, outcome, now);
        _records.Enqueue(record);
        if (Interlocked.CompareExchange(ref _recording, 1, 0) == 0)
        {
            _ = Task.Run(RecordPendingAsync, CancellationToken.None);
        }

        return record.Recorded.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Writes what is queued, statement after statement, until nothing is; one of these runs at a time.</summary>
    private async Task RecordPendingAsync()
    {
        var batch = new List<PendingRecord>(MaxRecordsPerStatement);
        while (true)
        {
            while (batch.Count < MaxRecordsPerStatement && _records.TryDequeue(out var record))
            {
                batch.Add(record);
            }

            if (batch.Count > 0)
            {
                await WriteRecordsAsync(batch);
                batch.Clear();
                continue;
            }

            Volatile.Write(ref _recording, 0);
            // A record queued after the last look but before the flag went down would wait for the next one:
            // take over again unless another writer already did.
            if (_records.IsEmpty || Interlocked.CompareExchange(ref _recording, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task WriteRecordsAsync(List<PendingRecord> batch)
    {
        try
        {
            using var timeout = new CancellationTokenSource(RecordTimeout);
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            var recorded = (await connection.QueryAsync<Guid>(new CommandDefinition(
                CompleteSql,
                new
                {
                    MessageIds = batch.Select(record => record.MessageId).ToArray(),
                    Tokens = batch.Select(record => record.Token).ToArray(),
                    Outcomes = batch.Select(record => record.Outcome).ToArray(),
                    Nows = batch.Select(record => record.Now).ToArray(),
                },
                cancellationToken: timeout.Token))).ToHashSet();
            foreach (var record in batch)
            {
                record.Recorded.TrySetResult(recorded.Contains(record.Token));
            }
        }
        catch (Exception ex)
        {
            foreach (var record in batch)
            {
                record.Recorded.TrySetException(ex);
            }
        }
    }

    /// <summary>Extends a claim whose send takes long; false when it was lost meanwhile.</summary>
    public async Task<bool> RenewAsync(Claim claim, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            RenewSql, new { claim.MessageId, claim.Token, LeaseUntil = leaseUntil }, cancellationToken: cancellationToken)) == 1;
    }

    /// <summary>Gives the message up unsent (a failure, a shutdown): its next delivery or retry claims it again at once.</summary>
    public async Task ReleaseAsync(Claim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(ReleaseSql, new { claim.MessageId, claim.Token }, cancellationToken: cancellationToken));
    }

    public async Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(PurgeSql, new { Cutoff = cutoff }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The address as the supersede check compares it (case-insensitively, as the API does), hashed: the
    /// worker's table need not hold another copy of every address. Not a secret, only not a copy.
    /// </summary>
    internal static byte[] RecipientHash(string address) => SHA256.HashData(Encoding.UTF8.GetBytes(address.ToLowerInvariant()));

    private sealed record ClaimRow(string? Taken, string? Existing, DateTime? LeaseUntil);

    private sealed record PendingRecord(Guid MessageId, Guid Token, string Outcome, DateTimeOffset Now)
    {
        public TaskCompletionSource<bool> Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
