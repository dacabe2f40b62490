namespace Registration.Testing.Client;

/// <summary>Requests fired at the same moment, for the races a row lock must settle.</summary>
public static class Race
{
    /// <summary>Starts every call at once (behind one gate) and returns their statuses in call order.</summary>
    public static async Task<IReadOnlyList<HttpStatusCode>> StatusesAsync(IEnumerable<Func<Task<HttpResponseMessage>>> calls)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = calls.Select(async call =>
        {
            await gate.Task;
            using var response = await call();
            return response.StatusCode;
        }).ToList();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }

    public static Task<IReadOnlyList<HttpStatusCode>> StatusesAsync(params Func<Task<HttpResponseMessage>>[] calls) =>
        StatusesAsync((IEnumerable<Func<Task<HttpResponseMessage>>>)calls);
}
