using Registration.Api.Outbox;

namespace Registration.Api.Tests.Unit;

public sealed class OutboxRetryDelayTests
{
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 200)]
    [InlineData(2, 400)]
    [InlineData(3, 800)]
    [InlineData(5, 3_200)]
    public void RetryDelay_DoublesFrom100Milliseconds(int attempts, int expectedMilliseconds)
    {
        OutboxDispatcher.RetryDelay(attempts, Max).Should().Be(TimeSpan.FromMilliseconds(expectedMilliseconds));
    }

    [Theory]
    [InlineData(6)]
    [InlineData(20)]
    [InlineData(1_000)]
    [InlineData(int.MaxValue)]
    public void RetryDelay_NeverExceedsTheMaximum_HoweverManyAttempts(int attempts)
    {
        OutboxDispatcher.RetryDelay(attempts, Max).Should().Be(Max);
    }

    [Fact]
    public void RetryDelay_FollowsASmallerMaximum()
    {
        OutboxDispatcher.RetryDelay(3, TimeSpan.FromMilliseconds(250)).Should().Be(TimeSpan.FromMilliseconds(250));
    }
}
