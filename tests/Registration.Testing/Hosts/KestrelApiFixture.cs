namespace Registration.Testing.Hosts;

/// <summary>
/// The API behind real Kestrel sockets instead of the in-memory TestServer, for what only a real server
/// shows: the body limit on a chunked body, the <c>Server</c> header, client addresses, HTTP parsing.
/// </summary>
public class KestrelApiFixture() : ApiFixture(overHttp: true);
