using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Npgsql;
using Registration.Contracts.V1;

namespace Registration.Api.Outbox;

/// <summary>
/// Adds a message to the outbox inside the caller's transaction: the message exists if and only if the
/// change it announces was committed. The row id becomes the message's MessageId.
/// </summary>
public static class OutboxWriter
{
    private const string InsertSql = """
        INSERT INTO outbox_messages (id, message_type, payload, created_at, trace_parent)
        VALUES (@Id, @MessageType, @Payload::jsonb, @CreatedAt, @TraceParent)
        """;

    public static async Task<Guid> AddAsync<T>(
        NpgsqlTransaction transaction, T message, DateTimeOffset now, CancellationToken cancellationToken)
        where T : class
    {
        var id = Guid.CreateVersion7(now);
        var row = new
        {
            Id = id,
            MessageType = OutboxMessageTypes.NameOf<T>(),
            Payload = JsonSerializer.Serialize(message, OutboxMessageTypes.SerializerOptions),
            CreatedAt = now,
            // Carries the request's trace into the dispatcher, so one trace spans API → broker → worker.
            TraceParent = Activity.Current?.Id,
        };
        await transaction.Connection!.ExecuteAsync(new CommandDefinition(InsertSql, row, transaction, cancellationToken: cancellationToken));
        return id;
    }
}

/// <summary>The message types the outbox may hold, by a stable name stored in the row.</summary>
public static class OutboxMessageTypes
{
    public static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> ByName = new(StringComparer.Ordinal)
    {
        [nameof(UserRegistered)] = typeof(UserRegistered),
        [nameof(ActivationCodeReissued)] = typeof(ActivationCodeReissued),
    };

    public static string NameOf<T>() => ByName.ContainsKey(typeof(T).Name)
        ? typeof(T).Name
        : throw new InvalidOperationException($"{typeof(T).Name} is not an outbox message type.");

    public static Type? Resolve(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Every name this version can publish (the dispatcher claims rows of these types only).</summary>
    public static string[] Names { get; } = [.. ByName.Keys];
}
