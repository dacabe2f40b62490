using Notification.Worker.DeadLetters;

namespace Notification.Worker.Tests;

/// <summary>Argument handling of <c>dead-letters</c>, which needs no broker.</summary>
public sealed class DeadLetterCommandTests
{
    [Theory]
    [InlineData]
    [InlineData("purge")]
    [InlineData("list", "--bogus")]
    [InlineData("replay", "--max", "0")]
    [InlineData("replay", "--max", "many")]
    [InlineData("replay", "--queue")]
    public async Task BadArguments_ExitWithUsage(params string[] args)
    {
        var (exitCode, _, error) = await WorkerCommand.RunDeadLettersAsync(Broker(port: 5672), args);

        exitCode.Should().Be(DeadLetterCommand.Usage);
        error.Should().Contain("Usage:");
    }

    [Fact]
    public async Task UnreachableBroker_ExitsWithFailure_WithoutThePassword()
    {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        var (exitCode, _, error) = await WorkerCommand.RunDeadLettersAsync(Broker(port: 1), ["list"]);

        exitCode.Should().Be(DeadLetterCommand.Failure);
        error.Should().StartWith("error:").And.NotContain("s3cret");
    }

    [Fact]
    public void Table_ShowsIdTypeAgeAndLastException()
    {
        var now = new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var letter = new DeadLetter(
            "activation-email_error",
            "6f1f0c55-0000-0000-0000-000000000001",
            "UserRegistered",
            now.AddMinutes(-3).AddSeconds(-12),
            now.AddMinutes(-1),
            "Notification.Worker.Consumers.PermanentEmailFailureException",
            "Mailjet answered 400 Bad Request");

        var table = DeadLetterCommand.FormatTable([letter], now);

        table.Should().Contain("MESSAGE ID").And.Contain("LAST EXCEPTION")
            .And.Contain("6f1f0c55-0000-0000-0000-000000000001")
            .And.Contain("UserRegistered")
            .And.Contain("3m12s")
            .And.Contain("PermanentEmailFailureException: Mailjet answered 400 Bad Request");
    }

    private static TestSettings Broker(int port) =>
        new TestSettings().Set("RabbitMq:Host", "127.0.0.1").Set("RabbitMq:Port", port).Set("RabbitMq:Password", "s3cret");
}
