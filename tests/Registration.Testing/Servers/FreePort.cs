using System.Net.Sockets;

namespace Registration.Testing.Servers;

/// <summary>A loopback port nothing listens on right now, for a service under test to listen on.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
