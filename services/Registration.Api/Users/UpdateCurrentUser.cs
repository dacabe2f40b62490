using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Registration.Api.Infrastructure;
using Registration.Contracts.V1;

namespace Registration.Api.Users;

public sealed record UpdateUserRequest(string? Email, string? Password);

/// <summary>
/// PATCH /v1/users/me: a new password and/or a new email. A new email must be free (the no-squatting rule
/// of registration applies), puts the account back to <c>pending</c> and gets a new code emailed to it
/// (reason <c>email-changed</c>); all of it in one transaction.
/// </summary>
public static class UpdateCurrentUser
{
    private const string LockUserSql = $"SELECT {UserRow.Columns} FROM users WHERE id = @Id FOR UPDATE";

    private const string UpdatePasswordSql = "UPDATE users SET password_hash = @PasswordHash WHERE id = @Id";

    private const string UpdateEmailSql = $"""
        UPDATE users SET email = @Email, status = 'pending', activated_at = NULL WHERE id = @Id
        RETURNING {UserRow.Columns}
        """;

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        HttpRequest request, ClaimsPrincipal principal, [AsParameters] UserServices services, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<UpdateUserRequest>(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.Email is null && body.Password is null)
        {
            return Problems.Validation("body", "Provide a new email, a new password, or both.");
        }

        var errors = new Dictionary<string, string[]>();
        var email = string.Empty;
        if (body.Email is not null && EmailAddress.Validate(body.Email, out email) is { } emailError)
        {
            errors["email"] = [emailError];
        }

        if (body.Password is not null && PasswordRules.Validate(body.Password) is { } passwordError)
        {
            errors["password"] = [passwordError];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // Hash outside the transaction: no row lock is held while bcrypt runs.
        var passwordHash = body.Password is null ? null : await services.Hasher.HashAsync(body.Password, ClientAddress.KeyOf(request.HttpContext), cancellationToken);
        var userId = principal.GetUserId();
        var now = services.Clock.GetDatabaseNow();

        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var user = await connection.QuerySingleOrDefaultAsync<UserRow>(
            new CommandDefinition(LockUserSql, new { Id = userId }, transaction, cancellationToken: cancellationToken));
        if (user is null)
        {
            return Problems.AccountGone();
        }

        if (passwordHash is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                UpdatePasswordSql, new { Id = userId, PasswordHash = passwordHash }, transaction, cancellationToken: cancellationToken));
        }

        var emailChanged = body.Email is not null && !string.Equals(email, user.Email, StringComparison.OrdinalIgnoreCase);
        if (emailChanged)
        {
            var (free, _) = await EmailHolder.ClaimAsync(transaction, email, claimant: userId, now, cancellationToken);
            if (!free)
            {
                return Problems.EmailTaken();
            }

            try
            {
                user = await connection.QuerySingleAsync<UserRow>(new CommandDefinition(
                    UpdateEmailSql, new { Id = userId, Email = email }, transaction, cancellationToken: cancellationToken));
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return Problems.EmailTaken();
            }

            await services.Issuer.ReissueAsync(transaction, userId, email, ReissueReasons.EmailChanged, now, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        Log.UserUpdated(services.Logger, userId, emailChanged, passwordHash is not null);
        return TypedResults.Ok(user.ToResponse());
    }
}
