namespace Notification.Worker.Tests;

/// <summary>Several worker instances on one queue share the emails and never send one twice.</summary>
public sealed class CompetingWorkersTests(TestEnvironment environment) : FreshProviderPerTest(environment)
{
    private const int Messages = 30;

    [Fact]
    public async Task TwoWorkersOnOneQueue_EmailEachMessageExactlyOnce_AndBothTakeAShare()
    {
        // Arrange: one message at a time per worker, and a send that takes a moment, so that while one
        // worker sends, the broker can only hand the next message to the other.
        Environment.Provider.Accept(delay: TimeSpan.FromMilliseconds(20));
        await using var first = await Environment.StartWorkerAsync(settings => settings.Consumers(concurrency: 1, prefetch: 1));
        await using var second = await Environment.StartWorkerAsync(settings => settings.Consumers(concurrency: 1, prefetch: 1));
        var messageIds = Enumerable.Range(0, Messages).Select(_ => Guid.NewGuid()).ToList();

        // Act: each message published once, confirmed by the broker.
        foreach (var messageId in messageIds)
        {
            await first.PublishAsync(TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1)), messageId);
        }

        // Every consume of every copy there is: nothing else can still arrive after this.
        await Eventually.GetAsync(() => first.Events.CompletedTotal + second.Events.CompletedTotal, n => n == Messages, "every message consumed");

        // Assert
        foreach (var messageId in messageIds)
        {
            (first.Events.Completed(messageId) + second.Events.Completed(messageId)).Should().Be(1, "a message goes to one worker");
            Environment.Provider.RequestsFor(messageId).Should().ContainSingle("each message is emailed exactly once")
                .Which.Accepted.Should().BeTrue();
        }

        Environment.Provider.Requests.Should().HaveCount(Messages);
        first.Events.CompletedTotal.Should().BePositive("{0} took part", first.Name);
        second.Events.CompletedTotal.Should().BePositive("{0} took part", second.Name);
    }

    [Fact]
    public async Task TwoCopiesOfOneMessageAtTwoWorkersAtOnce_AreEmailedOnce_EveryRound()
    {
        // The reproduction (before the claim, both copies were emailed in every round): one message at a time
        // per worker, a provider that takes 500 ms, the same MessageId published twice. Each worker takes
        // one copy; the one that loses the claim waits for the other to finish and then finds it sent.
        const int Rounds = 10;
        Environment.Provider.Accept(delay: TimeSpan.FromMilliseconds(500));
        await using var first = await Environment.StartWorkerAsync(settings => settings.Consumers(concurrency: 1, prefetch: 1));
        await using var second = await Environment.StartWorkerAsync(settings => settings.Consumers(concurrency: 1, prefetch: 1));
        var emailsPerRound = new List<int>();
        var raced = 0;

        for (var round = 0; round < Rounds; round++)
        {
            var messageId = Guid.NewGuid();
            var message = TestMessages.UserRegistered(DateTimeOffset.UtcNow.AddMinutes(1));
            await first.PublishAsync(message, messageId);
            await first.PublishAsync(message, messageId);

            await Eventually.GetAsync(() => first.Events.Completed(messageId) + second.Events.Completed(messageId), n => n == 2, "both copies handled");
            emailsPerRound.Add(Environment.Provider.RequestsFor(messageId).Count);
            raced += first.Logs.Lines.Concat(second.Logs.Lines)
                .Count(line => line.EventName == "HeldElsewhere" && line.Message.Contains(messageId.ToString(), StringComparison.Ordinal));
        }

        emailsPerRound.Should().AllSatisfy(emails => emails.Should().Be(1), "two workers never both send one message");
        raced.Should().BePositive("the copies must have met at the two workers at once, or this test proves nothing");
        (first.Events.CompletedTotal + second.Events.CompletedTotal).Should().Be(2 * Rounds);
    }
}
