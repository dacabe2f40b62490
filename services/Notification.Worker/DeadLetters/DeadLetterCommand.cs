using System.ComponentModel.DataAnnotations;
using System.Globalization;
using RabbitMQ.Client.Exceptions;
using Registration.Hosting;

namespace Notification.Worker.DeadLetters;

/// <summary>
/// <c>dead-letters list|replay [--queue NAME] [--max N]</c>: inspect and replay the worker's
/// error queues. Exit codes: 0 done, 1 failure, 2 usage.
/// </summary>
public static class DeadLetterCommand
{
    public const int Done = OperatorCommand.Done;
    public const int Failure = OperatorCommand.Failure;
    public const int Usage = OperatorCommand.Usage;

    private const string Name = "dead-letters";
    private const int DefaultListMax = 50;

    /// <summary><c>list</c> counts the dead letters that expire within this.</summary>
    private static readonly TimeSpan ExpiringSoon = TimeSpan.FromDays(1);

    private const string UsageText = """
        Usage:
          dead-letters list   [--queue NAME] [--max N]   show the messages waiting in the error queues (default: 50 per queue)
          dead-letters replay [--queue NAME] [--max N]   move them back to their queue (default: all)

        NAME is an error queue (activation-email_error) or the queue it belongs to (activation-email).
        RabbitMQ drops a dead letter RabbitMq:DeadLetterRetention (default 7 days) after it failed:
        list shows when each one expires, and how many expire within a day.
        Without --queue, every error queue of this worker. The broker is RabbitMq:* from
        appsettings.json and environment variables (RabbitMq__Host, RabbitMq__Password, ...).
        Exit codes: 0 done, 1 failure, 2 usage.
        """;

    public static bool Handles(string[] args) => args is [Name, ..];

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) =>
        OperatorCommand.RunAsync(error, (configuration, cancellationToken) =>
            RunAsync(args, configuration, output, error, cancellationToken));

    internal static async Task<int> RunAsync(
        string[] args,
        IConfiguration configuration,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        if (OperatorCommand.AsksForHelp(args))
        {
            await output.WriteLineAsync(UsageText);
            return Done;
        }

        if (!TryParse(args, out var command, out var problem))
        {
            return await OperatorCommand.RefuseAsync(error, problem, UsageText);
        }

        var rabbit = new RabbitMqOptions();
        configuration.GetSection(RabbitMqOptions.SectionName).Bind(rabbit);
        var invalid = new List<ValidationResult>();
        if (!Validator.TryValidateObject(rabbit, new ValidationContext(rabbit), invalid, validateAllProperties: true))
        {
            await error.WriteLineAsync($"error: invalid RabbitMq settings: {string.Join("; ", invalid.Select(v => v.ErrorMessage))}");
            return Failure;
        }

        try
        {
            await using var queues = await DeadLetterQueues.ConnectAsync(rabbit, cancellationToken);
            var targets = command.Queue is { } queue
                ? [DeadLetterQueues.ErrorQueueName(queue)]
                : DeadLetterQueues.KnownErrorQueues;

            return command.Verb == "list"
                ? await ListAsync(queues, targets, command.Max ?? DefaultListMax, command.Queue is not null, rabbit, output, cancellationToken)
                : await ReplayAsync(queues, targets, command.Max ?? int.MaxValue, command.Queue is not null, output, cancellationToken);
        }
        catch (Exception ex) when (ex is DeadLetterException or BrokerUnreachableException or OperationInterruptedException
                                       or AlreadyClosedException or OperationCanceledException or TimeoutException)
        {
            // The broker's address but never its credentials.
            await error.WriteLineAsync($"error: {ex.Message} (broker {rabbit.Host}:{rabbit.Port}, virtual host {rabbit.VirtualHost})");
            return Failure;
        }
    }

    private static async Task<int> ListAsync(
        DeadLetterQueues queues, IReadOnlyList<string> errorQueues, int max, bool named, RabbitMqOptions rabbit, TextWriter output, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var errorQueue in errorQueues)
        {
            var count = await queues.CountAsync(errorQueue, cancellationToken);
            if (count is null)
            {
                if (named)
                {
                    throw new DeadLetterException($"There is no queue {errorQueue}.");
                }

                await output.WriteLineAsync($"{errorQueue}: 0 messages (queue not created yet)");
                continue;
            }

            // The retention is the queue's own (an argument it was declared with): trusted only when it is the configured one.
            var declaredOtherwise = await queues.DeclaredOtherwiseAsync(errorQueue, rabbit, cancellationToken);
            TimeSpan? retention = declaredOtherwise is null ? rabbit.DeadLetterRetention : null;
            await output.WriteLineAsync(retention is { } kept
                ? $"{errorQueue}: {count} message(s), each dropped by RabbitMQ {FormatAge(kept)} after it failed"
                : $"{errorQueue}: {count} message(s); retention unknown, the queue was declared with other arguments ({declaredOtherwise})");
            if (count == 0)
            {
                continue;
            }

            var letters = await queues.PeekAsync(errorQueue, max, cancellationToken);
            await output.WriteLineAsync(FormatTable(letters, now, retention));
            if (count > letters.Count)
            {
                await output.WriteLineAsync($"  ... and {count - letters.Count} more (--max to see more)");
            }

            var soon = retention is { } shown ? letters.Count(letter => ExpiresAt(letter, shown) < now + ExpiringSoon) : 0;
            if (soon > 0)
            {
                await output.WriteLineAsync($"  {soon} of them expire within a day: replay them once the cause is fixed, or they are gone");
            }
        }

        return Done;
    }

    private static async Task<int> ReplayAsync(
        DeadLetterQueues queues, IReadOnlyList<string> errorQueues, int max, bool named, TextWriter output, CancellationToken cancellationToken)
    {
        var remaining = max;
        foreach (var errorQueue in errorQueues)
        {
            if (!named && await queues.CountAsync(errorQueue, cancellationToken) is null)
            {
                await output.WriteLineAsync($"{errorQueue}: nothing to replay (queue not created yet)");
                continue;
            }

            var moved = await queues.ReplayAsync(errorQueue, remaining, cancellationToken);
            remaining -= moved;
            await output.WriteLineAsync($"{errorQueue} -> {DeadLetterQueues.SourceQueueName(errorQueue)}: replayed {moved} message(s)");
        }

        return Done;
    }

    /// <summary>The table of <c>list</c>; with the queue's retention, when each message expires.</summary>
    internal static string FormatTable(IReadOnlyList<DeadLetter> letters, DateTimeOffset now, TimeSpan? retention = null)
    {
        string[] header = retention is null
            ? ["MESSAGE ID", "TYPE", "AGE", "FAILED", "LAST EXCEPTION"]
            : ["MESSAGE ID", "TYPE", "AGE", "FAILED", "EXPIRES IN", "LAST EXCEPTION"];
        var rows = letters.Select(letter => new[]
        {
            letter.MessageId ?? "-",
            letter.MessageType ?? "-",
            letter.SentAt is { } sent ? FormatAge(now - sent) : "-",
            letter.FaultedAt is { } faulted ? FormatAge(now - faulted) + " ago" : "-",
            retention is { } kept ? (ExpiresAt(letter, kept) is { } expires ? FormatAge(expires - now) : "-") : null,
            Exception(letter),
        }.OfType<string>().ToArray()).ToList();

        var widths = header.Select((title, column) => rows.Select(row => row[column].Length).Append(title.Length).Max()).ToArray();
        var lines = new[] { header }.Concat(rows).Select(row =>
            "  " + string.Join("  ", row.Select((cell, column) => column == row.Length - 1 ? cell : cell.PadRight(widths[column]))).TrimEnd());
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>A dead letter expires its queue's retention after it entered the queue (when it failed).</summary>
    internal static DateTimeOffset? ExpiresAt(DeadLetter letter, TimeSpan retention) => letter.FaultedAt + retention;

    private static string Exception(DeadLetter letter)
    {
        var type = letter.ExceptionType is { } fullName ? fullName[(fullName.LastIndexOf('.') + 1)..] : null;
        var text = (type, letter.ExceptionMessage) switch
        {
            (null, null) => "-",
            (null, var message) => message!,
            (var name, null) => name,
            var (name, message) => $"{name}: {message}",
        };
        const int MaxLength = 160;
        return text.Length <= MaxLength ? text : string.Concat(text.AsSpan(0, MaxLength), "…");
    }

    internal static string FormatAge(TimeSpan age)
    {
        if (age < TimeSpan.Zero)
        {
            age = TimeSpan.Zero;
        }

        return age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds}s"
            : age.TotalHours < 1 ? $"{age.Minutes}m{age.Seconds:00}s"
            : age.TotalDays < 1 ? $"{age.Hours}h{age.Minutes:00}m"
            : $"{(int)age.TotalDays}d{age.Hours:00}h";
    }

    private sealed record Command(string Verb, string? Queue, int? Max);

    private static bool TryParse(string[] args, out Command command, out string problem)
    {
        command = new Command("list", null, null);
        problem = string.Empty;
        if (args is not [Name, "list" or "replay", ..])
        {
            problem = args.Length < 2 ? "missing command (list or replay)" : $"unknown command '{args[1]}'";
            return false;
        }

        string? queue = null;
        int? max = null;
        for (var i = 2; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--queue" when i + 1 < args.Length && !string.IsNullOrWhiteSpace(args[i + 1]):
                    queue = args[++i];
                    break;
                case "--max" when i + 1 < args.Length:
                    if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
                    {
                        problem = $"--max takes a positive whole number, not '{args[i]}'";
                        return false;
                    }

                    max = value;
                    break;
                default:
                    problem = $"unexpected argument '{args[i]}'";
                    return false;
            }
        }

        command = new Command(args[1], queue, max);
        return true;
    }
}
