using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Registration.Api.Infrastructure;
using Registration.Api.Outbox;
using Registration.Contracts.V1;

namespace Registration.Api.Activation;

public sealed record IssuedCode(string Code, DateTimeOffset ExpiresAt);

/// <summary>
/// Issues a user's next activation code inside the caller's transaction: the previous code is superseded,
/// the new one stored, and the event that gets it emailed is added to the outbox (<see cref="OutboxWriter"/>).
/// Registration, resend, email change and redelivery all come through here, so these rules hold for every code.
/// </summary>
public sealed class ActivationCodeIssuer(IOptions<ActivationOptions> options)
{
    private const string Registration = "registration";

    private const string SupersedeSql = """
        UPDATE activation_codes SET superseded_at = @Now
        WHERE user_id = @UserId AND superseded_at IS NULL AND used_at IS NULL
        """;

    private const string InsertSql = """
        INSERT INTO activation_codes (id, user_id, code, reason, issued_at, expires_at)
        VALUES (@Id, @UserId, @Code, @Reason, @Now, @ExpiresAt)
        """;

    /// <summary>A new user's first code, announced as <see cref="UserRegistered"/>.</summary>
    public async Task<IssuedCode> IssueFirstAsync(
        NpgsqlTransaction transaction, Guid userId, string email, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var issued = await StoreAsync(transaction, userId, Registration, now, cancellationToken);
        await OutboxWriter.AddAsync(transaction, new UserRegistered(userId, email, issued.Code, issued.ExpiresAt, now), now, cancellationToken);
        return issued;
    }

    /// <summary>A code replacing the current one, announced as <see cref="ActivationCodeReissued"/> with <paramref name="reason"/>.</summary>
    /// <param name="reason">One of <see cref="ReissueReasons"/>.</param>
    public async Task<IssuedCode> ReissueAsync(
        NpgsqlTransaction transaction, Guid userId, string email, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var issued = await StoreAsync(transaction, userId, reason, now, cancellationToken);
        await OutboxWriter.AddAsync(
            transaction, new ActivationCodeReissued(userId, email, issued.Code, issued.ExpiresAt, reason, now), now, cancellationToken);
        return issued;
    }

    private async Task<IssuedCode> StoreAsync(
        NpgsqlTransaction transaction, Guid userId, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var issued = new IssuedCode(ActivationCodeGenerator.Next(), now + options.Value.CodeLifetime);
        await connection.ExecuteAsync(new CommandDefinition(
            SupersedeSql, new { UserId = userId, Now = now }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            InsertSql,
            new { Id = Guid.CreateVersion7(now), UserId = userId, issued.Code, Reason = reason, Now = now, issued.ExpiresAt },
            transaction,
            cancellationToken: cancellationToken));
        return issued;
    }
}
