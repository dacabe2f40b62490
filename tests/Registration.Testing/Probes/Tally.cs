namespace Registration.Testing.Probes;

/// <summary>How many of each, for a scenario's report: <c>200 x3, 401 x2, 503 x7</c>.</summary>
public static class Tally
{
    public static string Of<T>(IEnumerable<T> items, Func<T, string> key) =>
        string.Join(", ", items.GroupBy(key).OrderBy(group => group.Key, StringComparer.Ordinal).Select(group => $"{group.Key} x{group.Count()}"));

    /// <summary>HTTP statuses by number.</summary>
    public static string Of(IEnumerable<HttpStatusCode> statuses) => Of(statuses, status => ((int)status).ToString(CultureInfo.InvariantCulture));
}
