namespace Registration.Testing;

/// <summary>
/// Files the tests leave for <c>scripts/test.sh</c>'s checks by outside tools, which the test machine may not
/// have (the OpenAPI lint needs Node.js, the metrics check Prometheus' promtool): in <c>TestResults/</c> at the
/// repository root, which git ignores.
/// </summary>
public static class Artifacts
{
    public const string Folder = "TestResults";

    /// <summary>The API's OpenAPI document, for <c>redocly lint</c>.</summary>
    public const string OpenApiDocument = "openapi-v1.json";

    /// <summary>A scrape of the API's /metrics after real traffic, for <c>promtool check metrics</c>.</summary>
    public const string ApiMetrics = "metrics-api.txt";

    public static string Write(string name, string content)
    {
        var path = Repository.PathOf($"{Folder}/{name}");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }
}
