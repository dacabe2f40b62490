using System.Reflection;
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

        // Two steps, so that each error says what it is: first the syntax (a JsonElement takes any valid
        // JSON, so a failure here is malformed JSON, told by line and position), then the shape (a failure
        // there names the field whose value has the wrong type).
        JsonElement document;
        try
        {
            document = await request.ReadFromJsonAsync<JsonElement>(Options, cancellationToken);
        }
        catch (JsonException exception)
        {
            // LineNumber and BytePositionInLine count from 0; people count from 1. The exception text is not echoed.
            var where = exception.LineNumber is { } line && exception.BytePositionInLine is { } position
                ? $" at line {line + 1}, position {position + 1}"
                : string.Empty;
            return (null, Problems.Validation("body", $"The body is not valid JSON{where}."));
        }

        if (document.ValueKind != JsonValueKind.Object)
        {
            return (null, Problems.Validation("body", "A JSON object is required."));
        }

        try
        {
            return (document.Deserialize<T>(Options)!, null);
        }
        catch (JsonException exception)
        {
            var field = string.IsNullOrEmpty(exception.Path) || exception.Path == "$" ? "body" : exception.Path.TrimStart('$', '.');
            return (null, Problems.Validation(field, IsString<T>(field) ? "The value must be a JSON string." : "The value has the wrong JSON type."));
        }
    }

    private static bool IsString<T>(string field) =>
        typeof(T).GetProperty(field, BindingFlags.IgnoreCase | BindingFlags.Public | BindingFlags.Instance)?.PropertyType == typeof(string);

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
