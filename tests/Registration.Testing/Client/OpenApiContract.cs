using System.Text.Json.Nodes;
using FluentAssertions;
using Json.Schema;

namespace Registration.Testing.Client;

/// <summary>
/// The API's OpenAPI document (<c>/openapi/v1.json</c>) as a contract: an operation, the schema of its request
/// body or of one of its responses with every <c>$ref</c> to <c>#/components/schemas</c> inlined, and what is
/// wrong with a JSON value against such a schema (JSON Schema 2020-12, as OpenAPI 3.1 uses it).
/// </summary>
public sealed class OpenApiContract(JsonElement document)
{
    public const string Json = "application/json";

    public JsonElement Document { get; } = document;

    public static async Task<OpenApiContract> GetAsync(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return new OpenApiContract(await response.ReadJsonAsync());
    }

    /// <param name="method">Lower case, as in the document: <c>post</c>, <c>get</c>, ...</param>
    public JsonElement Operation(string method, string path) =>
        Document.GetProperty("paths").GetProperty(path).GetProperty(method.ToLowerInvariant());

    /// <summary>Every operation of the document: (method, path, operation).</summary>
    public IEnumerable<(string Method, string Path, JsonElement Operation)> Operations() =>
        Document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(member => member.Name is "get" or "post" or "put" or "patch" or "delete")
            .Select(operation => (operation.Name, path.Name, operation.Value)));

    public JsonElement RequestSchema(string method, string path) =>
        Operation(method, path).GetProperty("requestBody").GetProperty("content").GetProperty(Json).GetProperty("schema");

    public JsonElement ResponseSchema(string method, string path, int status, string mediaType = Json) =>
        Operation(method, path).GetProperty("responses").GetProperty(status.ToString(CultureInfo.InvariantCulture))
            .GetProperty("content").GetProperty(mediaType).GetProperty("schema");

    /// <summary>A schema as it reads with its references inlined (a component by name, or any schema of the document).</summary>
    public JsonNode Resolve(JsonElement schema) => Inline(JsonNode.Parse(schema.GetRawText())!);

    /// <summary>What is wrong with <paramref name="instance"/> against <paramref name="schema"/>; empty when it is valid.</summary>
    public IReadOnlyList<string> Errors(JsonElement schema, JsonElement instance)
    {
        var evaluation = JsonSchema.FromText(Resolve(schema).ToJsonString())
            .Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return evaluation.IsValid
            ? []
            : [.. (evaluation.Details ?? []).Where(detail => detail.Errors is not null)
                .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation}: {error.Key}: {error.Value}"))];
    }

    private JsonNode Inline(JsonNode node)
    {
        switch (node)
        {
            case JsonObject schema when schema["$ref"]?.GetValue<string>() is { } reference:
                const string prefix = "#/components/schemas/";
                reference.Should().StartWith(prefix, "only component schemas are referenced");
                var target = Document.GetProperty("components").GetProperty("schemas").GetProperty(reference[prefix.Length..]);
                var resolved = (JsonObject)Inline(JsonNode.Parse(target.GetRawText())!);
                foreach (var (key, value) in schema.Where(member => member.Key != "$ref").ToList())
                {
                    resolved[key] = value is null ? null : Inline(value.DeepClone());
                }

                return resolved;
            case JsonObject schema:
                foreach (var (key, value) in schema.ToList())
                {
                    if (value is not null)
                    {
                        schema[key] = Inline(value.DeepClone());
                    }
                }

                return schema;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is { } item)
                    {
                        array[i] = Inline(item.DeepClone());
                    }
                }

                return array;
            default:
                return node;
        }
    }
}
