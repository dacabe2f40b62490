using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

public sealed record RegisterUserRequest(string? Email, string? Password);

/// <summary>
/// POST /v1/users. Creates a pending user, its first activation code and the <c>UserRegistered</c> outbox
/// row in one transaction (<see cref="ActivationCodeIssuer.IssueFirstAsync"/>). An email held by a pending
/// account whose latest code has expired is taken over (no squatting, <see cref="EmailHolder"/>);
/// otherwise a held email is 409.
/// </summary>
public static class RegisterUser
{
    private const string InsertUserSql = $"""
        INSERT INTO users (id, email, password_hash, status, created_at)
        VALUES (@Id, @Email, @PasswordHash, 'pending', @Now)
        RETURNING {UserRow.Columns}
        """;

    public static async Task<Results<Created<UserResponse>, ProblemHttpResult>> HandleAsync(
        HttpRequest request, [AsParameters] UserServices services, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync<RegisterUserRequest>(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        if (EmailAddress.Validate(body!.Email, out var email) is { } emailError)
        {
            errors["email"] = [emailError];
        }

        if (PasswordRules.Validate(body.Password) is { } passwordError)
        {
            errors["password"] = [passwordError];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // Past the bcrypt bulkhead, refuse before touching the database: rejection must stay cheap.
        services.Hasher.ThrowIfSaturated(ClientAddress.KeyOf(request.HttpContext));

        // Cheap check first: a held address needs no bcrypt run (409 reveals nothing a 201 would not).
        await using (var connection = await services.DataSource.OpenConnectionAsync(cancellationToken))
        {
            var holder = await EmailHolder.FindAsync(connection, email, cancellationToken);
            if (holder is not null && !holder.CanBeReplaced(services.Clock.GetDatabaseNow()))
            {
                return Problems.EmailTaken();
            }
        }

        var passwordHash = await services.Hasher.HashAsync(body.Password!, ClientAddress.KeyOf(request.HttpContext), cancellationToken);
        var outcome = await CreateAsync(services, email, passwordHash, services.Clock.GetDatabaseNow(), cancellationToken);
        if (outcome is null)
        {
            return Problems.EmailTaken();
        }

        if (outcome.Value.ReplacedUserId is { } replaced)
        {
            Log.UserRegisteredReplacing(services.Logger, outcome.Value.User.Id, replaced);
        }
        else
        {
            Log.UserRegistered(services.Logger, outcome.Value.User.Id);
        }

        services.Metrics.UserRegistered();
        return TypedResults.Created($"/v1/users/{outcome.Value.User.Id}", outcome.Value.User.ToResponse());
    }

    /// <summary>Returns null when the email turned out to be taken (checked again under lock).</summary>
    private static async Task<(UserRow User, Guid? ReplacedUserId)?> CreateAsync(
        UserServices services, string email, string passwordHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var (free, replacedUserId) = await EmailHolder.ClaimAsync(transaction, email, claimant: null, now, cancellationToken);
        if (!free)
        {
            return null;
        }

        try
        {
            var user = await connection.QuerySingleAsync<UserRow>(new CommandDefinition(
                InsertUserSql,
                new { Id = Guid.CreateVersion7(now), Email = email, PasswordHash = passwordHash, Now = now },
                transaction,
                cancellationToken: cancellationToken));
            await services.Issuer.IssueFirstAsync(transaction, user.Id, user.Email, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (user, replacedUserId);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A concurrent registration of the same address committed first.
            return null;
        }
    }
}
