using System.Net;
using System.Net.Sockets;

namespace Registration.Api.Infrastructure;

/// <summary>
/// Who a "client" is for every per-client limit (rate limits, sign-in throttling, bcrypt fairness): its IPv4
/// address, or the /64 prefix of its IPv6 address, since one subscriber commonly holds a whole /64 and could
/// otherwise take a fresh address per request. The address is the TCP peer, or the forwarded client when a
/// trusted proxy set it (<see cref="HttpProtectionOptions.KnownProxies"/>).
/// </summary>
public static class ClientAddress
{
    public const string Unknown = "unknown";

    public static string KeyOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return KeyOf(context.Connection.RemoteIpAddress);
    }

    public static string KeyOf(IPAddress? address)
    {
        if (address is null)
        {
            return Unknown;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return $"{new IPAddress(bytes)}/64";
    }
}
