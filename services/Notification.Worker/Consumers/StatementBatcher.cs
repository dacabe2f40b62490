using System.Collections.Concurrent;

namespace Notification.Worker.Consumers;

/// <summary>
/// One database round trip for many concurrent callers. An item is written at once when no write is under
/// way; items that arrive meanwhile wait for it and then go together, up to <c>maxPerWrite</c> a write. So a
/// lone caller waits for nothing, and under load a caller costs a share of a round trip instead of one of its
/// own. One write runs at a time; a failed write fails each of its items.
/// </summary>
/// <param name="write">Writes the items and answers one result per item, in their order.</param>
/// <param name="maxPerWrite">Items in one write at the most; more wait for the next.</param>
/// <param name="timeout">How long one write may take before its items fail.</param>
internal sealed class StatementBatcher<TItem, TResult>(
    Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> write, int maxPerWrite, TimeSpan timeout)
{
    private readonly ConcurrentQueue<Pending> _queue = new();
    private int _writing;

    /// <summary>Queues <paramref name="item"/>; the task ends with its result once the write that carried it has ended.</summary>
    public Task<TResult> SubmitAsync(TItem item)
    {
        var pending = new Pending(item);
        _queue.Enqueue(pending);
        if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            _ = Task.Run(WritePendingAsync, CancellationToken.None);
        }

        return pending.Result.Task;
    }

    /// <summary>Writes what is queued, write after write, until nothing is; one of these runs at a time.</summary>
    private async Task WritePendingAsync()
    {
        var batch = new List<Pending>(maxPerWrite);
        while (true)
        {
            while (batch.Count < maxPerWrite && _queue.TryDequeue(out var pending))
            {
                batch.Add(pending);
            }

            if (batch.Count > 0)
            {
                await WriteAsync(batch);
                batch.Clear();
                continue;
            }

            Volatile.Write(ref _writing, 0);
            // An item queued after the last look but before the flag went down would wait for the next one:
            // take over again unless another writer already did.
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            using var expiry = new CancellationTokenSource(timeout);
            var results = await write(batch.ConvertAll(pending => pending.Item), expiry.Token);
            if (results.Count != batch.Count)
            {
                throw new InvalidOperationException($"A write of {batch.Count} items answered {results.Count} results.");
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Result.TrySetResult(results[i]);
            }
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Result.TrySetException(ex);
            }
        }
    }

    private sealed class Pending(TItem item)
    {
        public TItem Item { get; } = item;

        public TaskCompletionSource<TResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
