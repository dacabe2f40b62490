using MassTransit;
using Microsoft.Extensions.Time.Testing;
using Registration.Contracts.V1;

namespace Registration.Testing.Probes;

/// <summary>
/// Makes the first delivery of one address's registration reach the worker late: just before the
/// worker looks at it, the shared clock jumps ahead, as if the message had waited in the queue
/// (a backlog, the worker down) for that long.
/// </summary>
public sealed class LateDelivery(FakeTimeProvider clock, string email, TimeSpan lateness) : IConsumeObserver
{
    private int _delayed;

    public int Delayed => Volatile.Read(ref _delayed);

    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Message is UserRegistered registered
            && string.Equals(registered.Email, email, StringComparison.OrdinalIgnoreCase)
            && Interlocked.CompareExchange(ref _delayed, 1, 0) == 0)
        {
            clock.Advance(lateness);
        }

        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class => Task.CompletedTask;
}
