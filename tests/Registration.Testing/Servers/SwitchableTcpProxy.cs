using System.Net.Sockets;

namespace Registration.Testing.Servers;

/// <summary>
/// A TCP forwarder on 127.0.0.1 that a test can switch off and on, to make a server (PostgreSQL,
/// RabbitMQ) unreachable for the code under test without touching the real server, which other
/// tests share. Off means: every open connection is reset and new ones are refused (the port stops
/// listening), as when the server goes down. Stalled means: connections stay open and new ones are
/// accepted, but not a byte moves either way, as in a network partition where only timeouts help.
/// </summary>
public sealed class SwitchableTcpProxy : IAsyncDisposable
{
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly ConcurrentDictionary<Guid, Socket> _open = new();
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    // Completed while bytes may flow; a stall swaps in an uncompleted one that the pumps await.
    private TaskCompletionSource _flowing = Flowing();
    private int _connectionsForwarded;

    private SwitchableTcpProxy(string targetHost, int targetPort, int port)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        Port = port;
    }

    /// <summary>The local port clients connect to instead of the target's.</summary>
    public int Port { get; }

    /// <summary>Listening and forwarding.</summary>
    public bool IsOn
    {
        get
        {
            lock (_gate)
            {
                return _listener is not null && _flowing.Task.IsCompleted;
            }
        }
    }

    /// <summary>Connections accepted and forwarded since start.</summary>
    public int ConnectionsForwarded => Volatile.Read(ref _connectionsForwarded);

    /// <summary>Listens on a free loopback port and forwards to <paramref name="targetHost"/>:<paramref name="targetPort"/>.</summary>
    public static SwitchableTcpProxy Start(string targetHost, int targetPort)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var proxy = new SwitchableTcpProxy(targetHost, targetPort, port);
        proxy.TurnOn();
        return proxy;
    }

    /// <summary>Listens again on the same port (or ends a stall); connections from now on are forwarded.</summary>
    public void TurnOn()
    {
        lock (_gate)
        {
            StartListening();
            _flowing.TrySetResult();
        }
    }

    /// <summary>
    /// Keeps every connection open and accepts new ones, but forwards nothing until <see cref="TurnOn"/>:
    /// clients see no error, only silence (a black-holed network).
    /// </summary>
    public void Stall()
    {
        lock (_gate)
        {
            StartListening();
            if (_flowing.Task.IsCompleted)
            {
                _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Stops listening (new connections are refused) and resets every open connection.</summary>
    public async Task TurnOffAsync()
    {
        Task acceptLoop;
        lock (_gate)
        {
            if (_listener is null)
            {
                return;
            }

            _listener.Stop();
            _listener = null;
            acceptLoop = _acceptLoop;
        }

        await acceptLoop;
        foreach (var (key, socket) in _open)
        {
            Reset(socket);
            _open.TryRemove(key, out _);
        }

        // Pumps held by a stall wake up, find their sockets reset, and end.
        lock (_gate)
        {
            _flowing.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync() => await TurnOffAsync();

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }

    private Task WhenFlowing()
    {
        lock (_gate)
        {
            return _flowing.Task;
        }
    }

    // Under _gate.
    private void StartListening()
    {
        if (_listener is not null)
        {
            return;
        }

        var listener = new TcpListener(IPAddress.Loopback, Port);
        // The port may still have connections in TIME_WAIT from before the cut.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _acceptLoop = AcceptAsync(listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var clientKey = Guid.NewGuid();
        var upstreamKey = Guid.NewGuid();
        _open[clientKey] = client;
        _open[upstreamKey] = upstream;
        try
        {
            // A connection accepted during a stall waits, like a SYN into a black hole.
            await WhenFlowing();
            if (!_open.ContainsKey(clientKey))
            {
                return; // reset by TurnOffAsync meanwhile
            }

            await upstream.ConnectAsync(_targetHost, _targetPort);
            Interlocked.Increment(ref _connectionsForwarded);
            // Whichever direction ends first ends both.
            await Task.WhenAny(PumpAsync(client, upstream), PumpAsync(upstream, client));
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or IOException)
        {
            // Reset by TurnOffAsync, or the target is down: the client sees its connection drop.
        }
        finally
        {
            _open.TryRemove(clientKey, out _);
            _open.TryRemove(upstreamKey, out _);
            Reset(client);
            Reset(upstream);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    return;
                }

                // Held here during a stall; TCP back-pressure then stops the sender too.
                await WhenFlowing();
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // The other side or TurnOffAsync closed the connection.
        }
    }

    /// <summary>Closes with RST rather than FIN: the peer learns at once, and no TIME_WAIT holds the port.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        socket.Dispose();
    }
}
