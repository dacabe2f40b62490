namespace Notification.Worker.Tests;

/// <summary>What an operator reads when a send fails: one line per failure, with the reason and no address.</summary>
public sealed class FailureLogTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    [Fact]
    public async Task EachFailedAttempt_IsOneLine_AndTheLastOneSaysTheMessageIsDeadLettered()
    {
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        Environment.Provider.FailWith(503, body: $$"""{"ErrorMessage":"{{message.Email}} is throttled"}""");
        await using var worker = await Environment.StartWorkerAsync(settings => settings.Retries(http: 2, message: 2));
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);
        await Eventually.GetAsync(() => worker.Events.Faulted(messageId), n => n == 1, "the message dead-lettered");

        var lines = Relevant(worker);
        Dump(lines);
        lines.Should().HaveCount(3, "three attempts (the delivery and two message retries, each with its HTTP retries), one line each");
        Environment.Provider.RequestsFor(messageId).Should().HaveCount(9);
        lines.Take(2).Should().AllSatisfy(line => line.EventName.Should().Be("TransientFailure"));
        lines[^1].EventName.Should().Be("DeadLettered");
        lines.Should().AllSatisfy(line => line.Message.Should().Contain(messageId.ToString()).And.Contain("503").And.NotContain(message.Email));
    }

    [Fact]
    public async Task APermanentFailure_IsOneLine()
    {
        var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
        Environment.Provider.FailWith(400, body: $$"""{"ErrorMessage":"{{message.Email}} is not a valid recipient"}""");
        await using var worker = await Environment.StartWorkerAsync();
        var messageId = Guid.NewGuid();

        await worker.PublishAsync(message, messageId);
        await Eventually.GetAsync(() => worker.Events.Faulted(messageId), n => n == 1, "the message dead-lettered");

        var lines = Relevant(worker);
        Dump(lines);
        lines.Should().ContainSingle().Which.EventName.Should().Be("PermanentFailure");
        lines[0].Message.Should().Contain("400").And.Contain("not a valid recipient").And.NotContain(message.Email);
    }

    // Warnings and errors, and every MassTransit line: what tells of a failure.
    private static List<LogLine> Relevant(WorkerHost worker) =>
        [.. worker.Logs.Lines.Where(line => line.Level >= Microsoft.Extensions.Logging.LogLevel.Warning || line.Category.StartsWith("MassTransit", StringComparison.Ordinal))];

    private static void Dump(List<LogLine> lines)
    {
        foreach (var line in lines)
        {
            Console.WriteLine($"LOG {line.Level} {line.Category} {line.EventName}: {line.Message}");
        }
    }
}
