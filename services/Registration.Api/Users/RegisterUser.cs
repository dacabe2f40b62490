using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Registration.Api.Activation;
using Registration.Api.Infrastructure;

namespace Registration.Api.Users;

public sealed record RegisterUserRequest(string? Email, string? Password);

/// <summary>
/// POST /v1/users. Creates a pending user, its first activation code and the <c>UserRegistered</c> outbox
/// row in one transaction (<see cref="ActivationCodeIssuer.IssueFirstAsync"/>). An email held by a pending
/// account whose latest code has expired is taken over (no squatting, <see cref="EmailHolder"/>);
/// otherwise a held email is 409. An address that had its daily number of codes is 429 with Retry-After
/// (<see cref="AddressLimits"/>), whichever account they went to.
/// </summary>
public static class RegisterUser
{
    private const string InsertUserSql = $"""
        INSERT INTO users (id, email, email_key, password_hash, status, created_at, last_code_issued_at)
        VALUES (@Id, @Email, @EmailKey, @PasswordHash, 'pending', @Now, @Now)
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

        // Cheap checks first: a held address or one at its daily number of codes needs no bcrypt run (409
        // reveals nothing a 201 would not; the count is about the address, not about any account).
        var addressKey = EmailAddress.KeyOf(email)!;
        await using (var connection = await services.DataSource.OpenConnectionAsync(cancellationToken))
        {
            var now = services.Clock.GetDatabaseNow();
            var holder = await EmailHolder.FindAsync(connection, addressKey, cancellationToken);
            if (holder is not null && !holder.CanBeReplaced(now))
            {
                return Problems.EmailTaken();
            }

            if (await services.AddressLimits.PeekAsync(connection, addressKey, AddressLimits.CodeSent, now, cancellationToken) is { } wait)
            {
                return services.Issuer.AddressLimited(request.HttpContext, wait);
            }
        }

        var passwordHash = await services.Hasher.HashAsync(body.Password!, ClientAddress.KeyOf(request.HttpContext), cancellationToken);
        var outcome = await CreateAsync(services, email, addressKey, passwordHash, services.Clock.GetDatabaseNow(), cancellationToken);
        if (outcome.User is not { } user)
        {
            if (outcome.RetryAfter is not { } limited)
            {
                return Problems.EmailTaken();
            }

            return services.Issuer.AddressLimited(request.HttpContext, limited);
        }

        if (outcome.ReplacedUserId is { } replaced)
        {
            Log.UserRegisteredReplacing(services.Logger, user.Id, replaced);
        }
        else
        {
            Log.UserRegistered(services.Logger, user.Id);
        }

        services.Metrics.UserRegistered();
        return TypedResults.Created($"/v1/users/{user.Id}", user.ToResponse());
    }

    /// <summary>The new user; or no user: the email turned out to be taken (checked again under lock), or the address limited.</summary>
    private sealed record Creation(UserRow? User, Guid? ReplacedUserId = null, TimeSpan? RetryAfter = null);

    private static async Task<Creation> CreateAsync(
        UserServices services, string email, string addressKey, string passwordHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var (free, replacedUserId) = await EmailHolder.ClaimAsync(transaction, addressKey, claimant: null, now, cancellationToken);
        if (!free)
        {
            return new Creation(null);
        }

        // The holder's row, then the address lock, then the key's index entry: the order every writer keeps.
        await AddressLimits.LockAsync(transaction, addressKey, cancellationToken);

        try
        {
            var user = await connection.QuerySingleAsync<UserRow>(new CommandDefinition(
                InsertUserSql,
                new { Id = Guid.CreateVersion7(now), Email = email, EmailKey = addressKey, PasswordHash = passwordHash, Now = now },
                transaction,
                cancellationToken: cancellationToken));
            var issued = await services.Issuer.IssueFirstAsync(transaction, user.Id, user.Email, now, cancellationToken);
            if (issued.RetryAfter is { } wait)
            {
                return new Creation(null, RetryAfter: wait);
            }

            await transaction.CommitAsync(cancellationToken);
            return new Creation(user, replacedUserId);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A concurrent registration of the same address committed first.
            return new Creation(null);
        }
    }
}
