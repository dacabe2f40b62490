using Registration.Api.Infrastructure;

namespace Registration.Api.Tests.Unit;

public sealed class PasswordHasherTests
{
    [Fact]
    public async Task VerifyAsync_AcceptsTheHashedPassword_AndNoOther()
    {
        using var hasher = Create();
        var hash = await hasher.HashAsync("correct horse", CancellationToken.None);

        (await hasher.VerifyAsync("correct horse", hash, CancellationToken.None)).Should().BeTrue();
        (await hasher.VerifyAsync("correct horsE", hash, CancellationToken.None)).Should().BeFalse();
        hash.Should().StartWith("$2").And.Contain("$04$", "the configured work factor is used");
    }

    [Fact]
    public async Task VerifyAsync_ReturnsFalse_WhenThereIsNoHash_TheUnknownUserCase()
    {
        using var hasher = Create();

        (await hasher.VerifyAsync("any password", hash: null, CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task VerifyAsync_ReturnsFalse_RatherThanThrowing_WhenTheStoredHashIsCorrupt()
    {
        using var hasher = Create();

        (await hasher.VerifyAsync("any password", "not a bcrypt hash", CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task HashAsync_RefusesAtOnce_WhenEverySlotIsBusyAndTheQueueIsFull()
    {
        // One slot, no queue: of two simultaneous hashes, one runs and the other is refused. Work factor 12
        // takes long enough (~0.2 s) that the two always overlap once released together.
        using var hasher = Create(workFactor: 12, concurrency: 1, queueLimit: 0);
        using var start = new Barrier(2);

        var attempts = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                return hasher.HashAsync("correct horse", CancellationToken.None);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap()).ToArray();
        var outcomes = await Task.WhenAll(attempts.Select(async attempt =>
        {
            try
            {
                await attempt;
                return "hashed";
            }
            catch (ServiceBusyException)
            {
                return "busy";
            }
        }));

        outcomes.Should().BeEquivalentTo(["hashed", "busy"]);
    }

    private static PasswordHasher Create(int workFactor = 4, int concurrency = 0, int queueLimit = 16) =>
        new(
            new SecurityOptions { BcryptWorkFactor = workFactor, HashingConcurrency = concurrency, HashingQueueLimit = queueLimit },
            ManagedBcrypt.Instance,
            TimeProvider.System);
}
