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
/// ended. A worker claims a message before it sends (the claim also tells whether a newer code for the
/// same user and address was already handled), and records the outcome after. Claims of concurrent
/// messages share one statement, and so do their records (see <see cref="StatementBatcher{TItem, TResult}"/>):
/// under load an email costs a share of two round trips, not two of its own. A claim is a lease: a worker
/// that dies holding it blocks the message only until <c>lease_until</c>.
/// </summary>
public sealed class MessageClaims
{
    public const string Claimed = "claimed";
    public const string Sent = "sent";
    public const string Expired = "expired";
    public const string Superseded = "superseded";

    // The claims waiting when the statement is written, in one; no MessageId twice (see WriteClaimsAsync):
    // - newer: has a code issued after the row's already been handled for the same user and address, or is
    //   one in this very statement? (null for a notice: it carries no code, it neither supersedes nor is
    //   superseded). Materialized, so that it is worked out once per row, not once per CASE that reads it;
    // - claim: insert the rows, or take over claims whose lease ran out, in MessageId order, so that two
    //   workers' statements lock their common rows in one order and never deadlock. ON CONFLICT makes two
    //   workers' inserts of one MessageId wait for each other: exactly one of them claims it;
    // - the existing row, when the claim took nothing: how the message ended, or whose it is. It comes
    //   from the statement's snapshot, so a claim committed by another worker during this statement is
    //   not in it: no row at all then means "held elsewhere" too.
    private const string ClaimSql = """
        WITH input AS (
            SELECT * FROM unnest(@MessageIds, @UserIds, @RecipientHashes, @CodeIssuedAts, @Tokens, @Nows, @LeaseUntils)
                AS i(message_id, user_id, recipient_hash, code_issued_at, token, now, lease_until)
        ),
        decided AS MATERIALIZED (
            SELECT i.*,
                   EXISTS (
                       SELECT FROM notification.processed_messages p
                       WHERE p.user_id = i.user_id AND p.recipient_hash = i.recipient_hash AND p.code_issued_at > i.code_issued_at
                   ) OR EXISTS (
                       SELECT FROM input o
                       WHERE o.user_id = i.user_id AND o.recipient_hash = i.recipient_hash AND o.code_issued_at > i.code_issued_at
                   ) AS newer
            FROM input i
        ),
        claim AS (
            INSERT INTO notification.processed_messages AS p
                (message_id, user_id, recipient_hash, code_issued_at, outcome, processed_at, lease_token, lease_until)
            SELECT message_id, user_id, recipient_hash, code_issued_at,
                   CASE WHEN newer THEN 'superseded' ELSE 'claimed' END,
                   now,
                   CASE WHEN newer THEN NULL ELSE token END,
                   CASE WHEN newer THEN NULL ELSE lease_until END
            FROM decided
            ORDER BY message_id
            ON CONFLICT (message_id) DO UPDATE
                SET outcome = excluded.outcome, processed_at = excluded.processed_at,
                    lease_token = excluded.lease_token, lease_until = excluded.lease_until
                WHERE p.outcome = 'claimed' AND p.lease_until <= excluded.processed_at
            RETURNING p.message_id, p.outcome
        )
        SELECT i.message_id AS messageid, claim.outcome AS taken, existing.outcome AS existing, existing.lease_until AS leaseuntil
        FROM input i
        LEFT JOIN claim ON claim.message_id = i.message_id
        LEFT JOIN notification.processed_messages existing ON existing.message_id = i.message_id
        """;

    // The records waiting when the statement is written, in one: each row only if its claim is still the
    // holder's (its token); the tokens returned are the claims recorded. No indexed column changes (processed_at
    // stays the claim's time), so each is a heap-only update on a page kept with room for it (migration 0004).
    private const string CompleteSql = """
        UPDATE notification.processed_messages AS p
        SET outcome = r.outcome, lease_token = NULL, lease_until = NULL
        FROM unnest(@MessageIds, @Tokens, @Outcomes) AS r(message_id, token, outcome)
        WHERE p.message_id = r.message_id AND p.lease_token = r.token
        RETURNING r.token
        """;

    /// <summary>Claims, and records, written in one statement at most; more wait for the next.</summary>
    private const int MaxPerStatement = 64;

    private static readonly TimeSpan StatementTimeout = TimeSpan.FromSeconds(10);

    private readonly NpgsqlDataSource _dataSource;
    private readonly StatementBatcher<PendingClaim, Claim> _claims;
    private readonly StatementBatcher<PendingRecord, bool> _records;

    public MessageClaims(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        _claims = new(WriteClaimsAsync, MaxPerStatement, StatementTimeout);
        _records = new(WriteRecordsAsync, MaxPerStatement, StatementTimeout);
    }

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

    /// <summary>
    /// Claims <paramref name="messageId"/> for <paramref name="email"/> until <paramref name="leaseUntil"/>, unless it is
    /// done, superseded or held. A caller that stops waiting may still have claimed it: that claim is released.
    /// </summary>
    public async Task<Claim> ClaimAsync(Guid messageId, OutgoingEmail email, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        var claiming = _claims.SubmitAsync(new PendingClaim(
            messageId,
            email.UserId,
            email.Code is null ? null : RecipientHash(email.To),
            email.Code?.IssuedAt,
            Guid.NewGuid(),
            now,
            leaseUntil));
        try
        {
            return await claiming.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = ReleaseAbandonedAsync(claiming);
            throw;
        }
    }

    /// <summary>Releases a claim that its caller stopped waiting for, once the statement that took it has ended.</summary>
    private async Task ReleaseAbandonedAsync(Task<Claim> claiming)
    {
        try
        {
            if (await claiming is { Outcome: ClaimOutcome.Claimed } claim)
            {
                using var timeout = new CancellationTokenSource(StatementTimeout);
                await ReleaseAsync(claim, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            // Nobody to tell: the claim ends with its lease.
        }
    }

    /// <summary>
    /// Writes claims in as few statements as there are copies of one MessageId among them: ON CONFLICT cannot
    /// touch a row twice in one statement, and a later copy must see the earlier one's claim (a copy delivered
    /// twice at once is rare: a redelivery while the first is still being handled).
    /// </summary>
    private async Task<IReadOnlyList<Claim>> WriteClaimsAsync(IReadOnlyList<PendingClaim> pending, CancellationToken cancellationToken)
    {
        var claims = new Claim[pending.Count];
        var left = Enumerable.Range(0, pending.Count).ToList();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        while (left.Count > 0)
        {
            var seen = new HashSet<Guid>();
            var round = left.Where(index => seen.Add(pending[index].MessageId)).ToList();
            left = left.Except(round).ToList();
            var rows = (await connection.QueryAsync<ClaimRow>(new CommandDefinition(
                ClaimSql,
                new
                {
                    MessageIds = round.Select(index => pending[index].MessageId).ToArray(),
                    UserIds = round.Select(index => pending[index].UserId).ToArray(),
                    RecipientHashes = round.Select(index => pending[index].RecipientHash).ToArray(),
                    CodeIssuedAts = round.Select(index => pending[index].CodeIssuedAt).ToArray(),
                    Tokens = round.Select(index => pending[index].Token).ToArray(),
                    Nows = round.Select(index => pending[index].Now).ToArray(),
                    LeaseUntils = round.Select(index => pending[index].LeaseUntil).ToArray(),
                },
                cancellationToken: cancellationToken))).ToDictionary(row => row.MessageId);
            foreach (var index in round)
            {
                claims[index] = pending[index].Decide(rows[pending[index].MessageId]);
            }
        }

        return claims;
    }

    /// <summary>
    /// Records how the claimed message ended (<see cref="Sent"/>, <see cref="Expired"/>); false when the claim was
    /// lost meanwhile. Records of concurrent sends share a statement.
    /// </summary>
    public Task<bool> CompleteAsync(Claim claim, string outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return _records.SubmitAsync(new PendingRecord(claim.MessageId, claim.Token, outcome)).WaitAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<bool>> WriteRecordsAsync(IReadOnlyList<PendingRecord> batch, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var recorded = (await connection.QueryAsync<Guid>(new CommandDefinition(
            CompleteSql,
            new
            {
                MessageIds = batch.Select(record => record.MessageId).ToArray(),
                Tokens = batch.Select(record => record.Token).ToArray(),
                Outcomes = batch.Select(record => record.Outcome).ToArray(),
            },
            cancellationToken: cancellationToken))).ToHashSet();
        return batch.Select(record => recorded.Contains(record.Token)).ToArray();
    }

    /// <summary>Extends a claim whose send takes long; false when it was lost meanwhile.</summary>
    public async Task<bool> RenewAsync(Claim claim, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            RenewSql, new { claim.MessageId, claim.Token, LeaseUntil = leaseUntil }, cancellationToken: cancellationToken)) == 1;
    }

    /// <summary>Gives the message up unsent (a failure, a shutdown): its next delivery or retry claims it again at once.</summary>
    public async Task ReleaseAsync(Claim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(ReleaseSql, new { claim.MessageId, claim.Token }, cancellationToken: cancellationToken));
    }

    public async Task<int> PurgeOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(PurgeSql, new { Cutoff = cutoff }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The address as the supersede check compares it (case-insensitively, as the API does), hashed: the
    /// worker's table need not hold another copy of every address. Not a secret, only not a copy.
    /// </summary>
    internal static byte[] RecipientHash(string address) => SHA256.HashData(Encoding.UTF8.GetBytes(address.ToLowerInvariant()));

    private sealed record ClaimRow(Guid MessageId, string? Taken, string? Existing, DateTime? LeaseUntil);

    private sealed record PendingClaim(
        Guid MessageId, Guid UserId, byte[]? RecipientHash, DateTimeOffset? CodeIssuedAt, Guid Token, DateTimeOffset Now, DateTimeOffset LeaseUntil)
    {
        /// <summary>What the statement's row says of this claim.</summary>
        public Claim Decide(ClaimRow row)
        {
            var outcome = (row.Taken, row.Existing) switch
            {
                (Claimed, _) => ClaimOutcome.Claimed,
                (Superseded, _) => ClaimOutcome.Superseded,
                (null, Sent or Expired or Superseded) => ClaimOutcome.AlreadyHandled,
                _ => ClaimOutcome.HeldElsewhere,
            };
            var heldUntil = row.LeaseUntil is { } until ? new DateTimeOffset(DateTime.SpecifyKind(until, DateTimeKind.Utc)) : (DateTimeOffset?)null;
            return new Claim(outcome, MessageId, Token, outcome == ClaimOutcome.HeldElsewhere ? heldUntil : LeaseUntil);
        }
    }

    private sealed record PendingRecord(Guid MessageId, Guid Token, string Outcome);
}
