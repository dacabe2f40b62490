using System.Globalization;
using Dapper;
using Npgsql;
using Registration.Api.Infrastructure;
using Registration.Hosting;

namespace Registration.Api.Outbox;

/// <summary>
/// <c>outbox-parked list [--max N]</c> and <c>outbox-parked requeue (--id ID ... | --all)</c>: the operators'
/// view of the outbox rows <see cref="OutboxDispatcher"/> parked instead of publishing (a payload it cannot
/// read, a type no instance knows). It never prints a payload: those hold an email address and a code.
/// Exit codes as every <see cref="OperatorCommand"/>: 0 done, 1 failure, 2 usage.
/// </summary>
public static class ParkedOutboxCommand
{
    private const string Name = "outbox-parked";
    private const int DefaultListMax = 50;

    private const string UsageText = """
        Usage:
          outbox-parked list [--max N]              the parked outbox messages, oldest first (default: 50)
          outbox-parked requeue --id ID [--id ID]   give parked messages back to the dispatcher, once the cause is fixed
          outbox-parked requeue --all

        A message is parked when its payload cannot be read as its type, or when no API instance has
        known its type for 10 minutes; it is deleted Outbox:ParkedRetention (default 7 days) after.
        The database is ConnectionStrings:Postgres from appsettings.json and the environment
        (ConnectionStrings__Postgres). Exit codes: 0 done, 1 failure, 2 usage.
        """;

    private const string ListSql = """
        SELECT id, message_type, created_at, parked_at, parked_reason, attempts, count(*) OVER () AS total
        FROM outbox_messages
        WHERE parked_at IS NOT NULL
        ORDER BY parked_at, id
        LIMIT @Max
        """;

    // The dispatcher claims a requeued row like a new one; the NOTIFY wakes it at commit.
    private const string RequeueSql = $"""
        UPDATE outbox_messages
        SET parked_at = NULL, parked_reason = NULL, attempts = 0, next_attempt_at = NULL, last_error = NULL
        WHERE parked_at IS NOT NULL AND (@All OR id = ANY(@Ids));
        NOTIFY {OutboxDispatcher.NotificationChannel};
        """;

    public static bool Handles(string[] args) => args is [Name, ..];

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) =>
        OperatorCommand.RunAsync(error, (configuration, cancellationToken) => RunAsync(args, configuration, output, error, cancellationToken));

    internal static async Task<int> RunAsync(
        string[] args, IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        if (OperatorCommand.AsksForHelp(args))
        {
            await output.WriteLineAsync(UsageText);
            return OperatorCommand.Done;
        }

        if (!TryParse(args, out var command, out var problem))
        {
            return await OperatorCommand.RefuseAsync(error, problem, UsageText);
        }

        // As the API maps snake_case columns (ApplicationServices), which this command does not run.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        var connectionString = ApplicationServices.WithFailFastDefaults(configuration.GetRequiredPostgres());
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return command.Verb == "list"
            ? await ListAsync(connection, command.Max ?? DefaultListMax, output, cancellationToken)
            : await RequeueAsync(connection, command, output, cancellationToken);
    }

    private static async Task<int> ListAsync(NpgsqlConnection connection, int max, TextWriter output, CancellationToken cancellationToken)
    {
        var rows = (await connection.QueryAsync<ParkedRow>(new CommandDefinition(ListSql, new { Max = max }, cancellationToken: cancellationToken))).AsList();
        var total = rows.Count == 0 ? 0 : rows[0].Total;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{total} parked outbox message(s){(total > rows.Count ? $", the oldest {rows.Count} shown" : string.Empty)}"));
        var now = DateTime.UtcNow;
        foreach (var row in rows)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {row.Id}  {row.MessageType}  created {row.CreatedAt:u}  parked {row.ParkedAt:u} ({Age(now - row.ParkedAt)} ago)  attempts {row.Attempts}"));
            await output.WriteLineAsync($"    {row.ParkedReason}");
        }

        return OperatorCommand.Done;
    }

    private static async Task<int> RequeueAsync(NpgsqlConnection connection, Command command, TextWriter output, CancellationToken cancellationToken)
    {
        var requeued = await connection.ExecuteAsync(new CommandDefinition(
            RequeueSql, new { command.All, Ids = command.Ids.ToArray() }, cancellationToken: cancellationToken));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{requeued} parked outbox message(s) handed back to the dispatcher"));
        return OperatorCommand.Done;
    }

    private static string Age(TimeSpan age) => age switch
    {
        { TotalDays: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalDays}d {age.Hours}h"),
        { TotalHours: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalHours}h {age.Minutes}m"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)age.TotalMinutes)}m {Math.Max(0, age.Seconds)}s"),
    };

    private static bool TryParse(string[] args, out Command command, out string? problem)
    {
        command = new Command(string.Empty, null, false, []);
        problem = null;
        if (args is not [Name, var verb, .. var rest] || verb is not ("list" or "requeue"))
        {
            problem = "expected 'list' or 'requeue'";
            return false;
        }

        int? max = null;
        var all = false;
        var ids = new List<Guid>();
        for (var i = 0; i < rest.Length; i++)
        {
            switch (rest[i])
            {
                case "--max" when verb == "list" && i + 1 < rest.Length
                                  && int.TryParse(rest[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    max = n;
                    i++;
                    break;
                case "--id" when verb == "requeue" && i + 1 < rest.Length && Guid.TryParse(rest[i + 1], out var id):
                    ids.Add(id);
                    i++;
                    break;
                case "--all" when verb == "requeue":
                    all = true;
                    break;
                default:
                    problem = $"unexpected argument '{rest[i]}'";
                    return false;
            }
        }

        if (verb == "requeue" && all == (ids.Count > 0))
        {
            problem = "requeue needs --id ID (one or more) or --all";
            return false;
        }

        command = new Command(verb, max, all, ids);
        return true;
    }

    private sealed record Command(string Verb, int? Max, bool All, IReadOnlyList<Guid> Ids);

    private sealed record ParkedRow(
        Guid Id, string MessageType, DateTime CreatedAt, DateTime ParkedAt, string? ParkedReason, int Attempts, long Total);
}
