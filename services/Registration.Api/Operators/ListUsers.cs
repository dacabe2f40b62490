using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Registration.Api.Infrastructure;
using Registration.Api.Users;

namespace Registration.Api.Operators;

public sealed record UserPage(IReadOnlyList<UserResponse> Items, string? Next);

/// <summary>
/// GET /v1/users?status=&amp;limit=&amp;after= for operators: keyset paging over (created_at, id), so pages
/// neither skip nor repeat rows while users are being inserted. <c>next</c> is an opaque cursor naming the
/// last row of the page; null on the last page.
/// </summary>
public static class ListUsers
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    private const string SelectSql = $"SELECT {UserRow.Columns} FROM users";

    public static async Task<Results<Ok<UserPage>, ProblemHttpResult>> HandleAsync(
        string? status, string? limit, string? after, [AsParameters] OperatorServices services, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (status is not null && status != UserStatus.Pending && status != UserStatus.Active)
        {
            errors["status"] = ["Status must be 'pending' or 'active'."];
        }

        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"Limit must be a whole number from 1 to {MaxLimit}."];
        }

        Cursor? cursor = null;
        if (after is not null && !Cursor.TryDecode(after, out cursor))
        {
            errors["after"] = ["The cursor is not valid; use the 'next' value of a previous page."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var sql = new StringBuilder(SelectSql);
        var conditions = new List<string>();
        if (status is not null)
        {
            conditions.Add("status = @Status");
        }

        if (cursor is not null)
        {
            conditions.Add("(created_at, id) > (@AfterCreatedAt, @AfterId)");
        }

        if (conditions.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", conditions);
        }

        sql.Append(" ORDER BY created_at, id LIMIT @Take");

        await using var connection = await services.DataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<UserRow>(new CommandDefinition(
            sql.ToString(),
            new { Status = status, AfterCreatedAt = cursor?.CreatedAt, AfterId = cursor?.Id, Take = pageSize + 1 },
            cancellationToken: cancellationToken))).AsList();

        // One extra row tells whether another page exists without a count query.
        var hasMore = rows.Count > pageSize;
        var items = rows.Take(pageSize).Select(row => row.ToResponse()).ToList();
        var next = hasMore ? new Cursor(rows[pageSize - 1].CreatedAt, rows[pageSize - 1].Id).Encode() : null;
        return TypedResults.Ok(new UserPage(items, next));
    }

    /// <summary>(created_at in microseconds, id), as 24 bytes in base64url. Opaque to clients.</summary>
    internal sealed record Cursor(DateTime CreatedAt, Guid Id)
    {
        private const int Size = 24;

        public string Encode()
        {
            Span<byte> bytes = stackalloc byte[Size];
            BinaryPrimitives.WriteInt64BigEndian(bytes, CreatedAt.Ticks);
            Id.TryWriteBytes(bytes[8..], bigEndian: true, out _);
            return WebEncoders.Base64UrlEncode(bytes.ToArray());
        }

        public static bool TryDecode(string value, out Cursor? cursor)
        {
            cursor = null;
            if (value.Length is 0 or > 64)
            {
                return false;
            }

            byte[] bytes;
            try
            {
                bytes = WebEncoders.Base64UrlDecode(value);
            }
            catch (FormatException)
            {
                return false;
            }

            if (bytes.Length != Size)
            {
                return false;
            }

            var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
            if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
            {
                return false;
            }

            cursor = new Cursor(new DateTime(ticks, DateTimeKind.Utc), new Guid(bytes.AsSpan(8), bigEndian: true));
            return true;
        }
    }
}
