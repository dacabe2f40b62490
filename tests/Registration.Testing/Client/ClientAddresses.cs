namespace Registration.Testing.Client;

/// <summary>Client addresses a test names with X-Forwarded-For (through a trusted proxy), so tests do not share a rate limit.</summary>
public static class ClientAddresses
{
    private static int _last;

    /// <summary>An address of TEST-NET-3 (203.0.113.0/24) no other test of this run uses.</summary>
    public static string Next() => $"203.0.113.{(Interlocked.Increment(ref _last) % 250) + 1}";

    /// <summary>Every request of <paramref name="client"/> comes from <paramref name="address"/> (the API must trust loopback as its proxy).</summary>
    public static HttpClient From(this HttpClient client, string address)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return client;
    }
}
