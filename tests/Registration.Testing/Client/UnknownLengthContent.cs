using System.Net.Http.Headers;

namespace Registration.Testing.Client;

/// <summary>
/// A body whose length the client does not announce: no Content-Length, sent with
/// <c>Transfer-Encoding: chunked</c> over a real connection. The server finds the size only by reading.
/// </summary>
public sealed class UnknownLengthContent : HttpContent
{
    private readonly byte[] _bytes;

    public UnknownLengthContent(string text, string mediaType = "application/json")
    {
        _bytes = Encoding.UTF8.GetBytes(text);
        Headers.ContentType = new MediaTypeHeaderValue(mediaType) { CharSet = "utf-8" };
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        // Several writes, so the body goes out as several chunks; but no flush between them. An oversized
        // body is answered 413 and the connection closed before the server has read it all: a client still
        // sending then (one flushed chunk at a time, a thread-pool hop apart under load) writes into a
        // closed connection and sees "Broken pipe" instead of the answer. Buffered, the chunks leave together.
        for (var offset = 0; offset < _bytes.Length; offset += 1024)
        {
            await stream.WriteAsync(_bytes.AsMemory(offset, Math.Min(1024, _bytes.Length - offset)));
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
