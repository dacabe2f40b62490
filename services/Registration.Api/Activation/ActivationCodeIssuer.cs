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
/// the new one stored, and the event that gets it emailed is added to the outbox. Registration, resend,
/// email change and redelivery all come through here, so these rules hold for every code.
/// </summary>
public sealed class ActivationCodeIssuer(IOptions<ActivationOptions> options)
{
    public const string Registration = "registration";

    private const string SupersedeSql = """
        UPDATE activation_codes SET superseded_at = @Now
        WHERE user_id = @UserId AND superseded_at IS NULL AND used_at IS NULL
        """;

    private const string InsertSql = """
        INSERT INTO activation_codes (id, user_id, code, reason, issued_at, expires_at)
        VALUES (@Id, @UserId, @Code, @Reason, @Now, @ExpiresAt)
        """;

    /// <param name="reason"><see cref="Registration"/> or one of <see cref="ReissueReasons"/>.</param>
    public async Task<IssuedCode> IssueAsync(
        NpgsqlTransaction transaction, Guid userId, string email, string reason, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        var code = ActivationCodeGenerator.Next();
        var expiresAt = now + options.Value.CodeLifetime;

        await connection.ExecuteAsync(new CommandDefinition(
            SupersedeSql, new { UserId = userId, Now = now }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            InsertSql,
            new { Id = Guid.CreateVersion7(now), UserId = userId, Code = code, Reason = reason, Now = now, ExpiresAt = expiresAt },
            transaction,
            cancellationToken: cancellationToken));

        if (reason == Registration)
        {
            await OutboxWriter.AddAsync(transaction, new UserRegistered(userId, email, code, expiresAt, now), now, cancellationToken);
        }
        else
        {
            await OutboxWriter.AddAsync(
                transaction, new ActivationCodeReissued(userId, email, code, expiresAt, reason, now), now, cancellationToken);
        }

        return new IssuedCode(code, expiresAt);
    }
}
