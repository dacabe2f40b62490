namespace Registration.Testing.Client;

/// <summary>
/// Client addresses a test names with X-Forwarded-For (believed only from a trusted proxy, see
/// <see cref="TestSettings.TrustLoopbackProxy"/>), so tests do not share a per-client limit.
/// </summary>
public static class ClientAddresses
{
    private static int _last;
    private static int _lastPrefix;

    /// <summary>An address of TEST-NET-3 (203.0.113.0/24) no other test of this run uses.</summary>
    public static string Next() => $"203.0.113.{(Interlocked.Increment(ref _last) % 250) + 1}";

    /// <summary>
    /// The first four groups of an IPv6 /64 in the documentation range (2001:db8::/32) no other test of this
    /// run uses; <see cref="InPrefix"/> names hosts inside it. The API counts a /64 as one client.
    /// </summary>
    public static string NextIPv6Prefix() => $"2001:db8:{Interlocked.Increment(ref _lastPrefix):x}:1";

    /// <summary>Host <paramref name="host"/> of a prefix from <see cref="NextIPv6Prefix"/>, e.g. <c>2001:db8:7:1::2a</c>.</summary>
    public static string InPrefix(string prefix, int host) => string.Create(CultureInfo.InvariantCulture, $"{prefix}::{host:x}");

    /// <summary>Every request of <paramref name="client"/> comes from <paramref name="address"/> (the API must trust loopback as its proxy).</summary>
    public static HttpClient From(this HttpClient client, string address)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.DefaultRequestHeaders.Remove("X-Forwarded-For");
        client.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return client;
    }
}
