using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Registration.Api.Infrastructure;

/// <summary>
/// Reads a JSON request body with our own error answers: a wrong content type is 415, unreadable or
/// mistyped JSON is 400 <c>validation-failed</c> naming the offending field, never a 500.
/// </summary>
public static class JsonBody
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType() || !HasReadableCharset(request))
        {
            return (null, Problems.UnsupportedMediaType());
        }

        try
        {
            var value = await request.ReadFromJsonAsync<T>(Options, cancellationToken);
            return value is null
                ? (null, Problems.Validation("body", "A JSON object is required."))
                : (value, null);
        }
        catch (JsonException exception)
        {
            // The path says which field was wrong; the exception text itself is not echoed.
            var field = string.IsNullOrEmpty(exception.Path) || exception.Path == "$" ? "body" : exception.Path.TrimStart('$', '.');
            return (null, Problems.Validation(field, "The value is not valid JSON of the expected type."));
        }
    }

    /// <summary>
    /// No charset (UTF-8) or one ReadFromJsonAsync can decode. It throws InvalidOperationException for an
    /// unknown one ("charset=bogus", and a quoted one, which it does not unquote): that would be a 500.
    /// </summary>
    private static bool HasReadableCharset(HttpRequest request)
    {
        var charset = MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) ? mediaType.Charset : default;
        if (StringSegment.IsNullOrEmpty(charset))
        {
            return true;
        }

        try
        {
            _ = Encoding.GetEncoding(charset.ToString());
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
