using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Registration.Api.Tests.Api.Documentation;

/// <summary>GET /docs: interactive documentation that works offline, every asset served by the API itself.</summary>
public sealed partial class DocsPageTests(ApiFixture factory) : IClassFixture<ApiFixture>
{
    private static readonly Uri DocsPage = new("http://localhost/docs/");

    private readonly HttpClient _client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [Fact]
    public async Task Docs_RedirectsToTheTrailingSlashPage_OrServesIt()
    {
        using var response = await _client.GetAsync("/docs");

        if (response.StatusCode == HttpStatusCode.OK)
        {
            (response.Content.Headers.ContentType?.MediaType).Should().Be("text/html");
            return;
        }

        ((int)response.StatusCode).Should().BeOneOf([301, 302, 307, 308]);
        new Uri(new Uri("http://localhost/docs"), response.Headers.Location!).AbsolutePath.Should().Be("/docs/");
        response.Headers.Location!.IsAbsoluteUri.Should().BeFalse("a relative redirect works behind any proxy");
    }

    [Fact]
    public async Task Docs_ReturnsHtml_InProduction()
    {
        using var response = await _client.GetAsync(DocsPage.AbsolutePath);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (response.Content.Headers.ContentType?.MediaType).Should().Be("text/html");
        (await response.Content.ReadAsStringAsync()).Should().Contain("<html", Exactly.Once());
    }

    [Fact]
    public async Task Docs_ReferencesOnlyLocalScriptsStylesAndImages()
    {
        var html = await GetDocsHtmlAsync();

        var references = AssetReferences(html);

        references.Should().NotBeEmpty("the page loads its script");
        references.Should().OnlyContain(
            reference => !reference.Contains("://", StringComparison.Ordinal) && !reference.StartsWith("//", StringComparison.Ordinal),
            "the docs must work with no internet access (no CDN)");
    }

    [Fact]
    public async Task Docs_EveryReferencedAsset_IsServedByTheApi()
    {
        var html = await GetDocsHtmlAsync();

        foreach (var reference in AssetReferences(html))
        {
            var url = new Uri(DocsPage, reference);
            using var response = await _client.GetAsync(url.PathAndQuery);

            response.StatusCode.Should().Be(HttpStatusCode.OK, "{0} (from \"{1}\") is served", url.PathAndQuery, reference);
            (await response.Content.ReadAsByteArrayAsync()).Should().NotBeEmpty();
        }
    }

    [Fact]
    public async Task Docs_PointsAtTheApisOwnOpenApiDocument()
    {
        var html = await GetDocsHtmlAsync();

        // Scalar resolves a relative source against the application root (the page's path minus "/docs/").
        var sources = SourceUrls(html);
        sources.Should().NotBeEmpty();
        foreach (var source in sources)
        {
            source.Should().NotContain("://", "the document comes from this API, not from the internet");
            using var response = await _client.GetAsync("/" + source.TrimStart('/'));
            response.StatusCode.Should().Be(HttpStatusCode.OK, "the docs' source {0} is served", source);
            var document = await response.ReadJsonAsync();
            document.GetProperty("openapi").GetString().Should().StartWith("3");
        }
    }

    [Fact]
    public async Task Docs_TellScalarNotToFetchFontsFromItsCdnNorToSendTelemetry()
    {
        var html = await GetDocsHtmlAsync();

        // Scalar's bundle loads Inter and JetBrains Mono from fonts.scalar.com and reports API-client use
        // unless told otherwise: both are requests to the internet on every visit.
        var configuration = JsonDocument.Parse(ConfigurationObject().Match(html).Value).RootElement;
        configuration.TryGetProperty("withDefaultFonts", out var fonts).Should().BeTrue("the page must turn off the CDN fonts");
        fonts.GetBoolean().Should().BeFalse();
        configuration.TryGetProperty("telemetry", out var telemetry).Should().BeTrue("the page must turn off telemetry");
        telemetry.GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task Docs_HideWhatCannotWorkHere_AiChatMcpAndTheDeveloperToolbar()
    {
        var configuration = JsonDocument.Parse(ConfigurationObject().Match(await GetDocsHtmlAsync()).Value).RootElement;

        // The AI chat and MCP call Scalar's servers; the toolbar offers deploy, share and SDK generation.
        configuration.GetProperty("agent").GetProperty("disabled").GetBoolean().Should().BeTrue();
        configuration.GetProperty("mcp").GetProperty("disabled").GetBoolean().Should().BeTrue();
        configuration.GetProperty("showDeveloperTools").GetString().Should().Be("never");
    }

    [Fact]
    public async Task Docs_PreFillTheBasicCredentials_OfTheRegistrationExample()
    {
        var configuration = JsonDocument.Parse(ConfigurationObject().Match(await GetDocsHtmlAsync()).Value).RootElement;
        var contract = await OpenApiContract.GetAsync(_client);
        var example = contract.Operation("post", "/v1/users").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");

        // "Register a user" then "Read your account", sent as they are, succeed: the same user.
        var basic = configuration.GetProperty("authentication").GetProperty("securitySchemes").GetProperty("Basic");
        basic.GetProperty("username").GetString().Should().Be(example.GetProperty("email").GetString());
        basic.GetProperty("password").GetString().Should().Be(example.GetProperty("password").GetString());
        configuration.GetProperty("authentication").GetProperty("preferredSecurityScheme").EnumerateArray().Select(scheme => scheme.GetString()).Should().Equal("Basic");
    }

    [Fact]
    public async Task Docs_NeverCarryTheOperatorKey_OutsideDevelopment()
    {
        // The test API runs in Production with an operator key: the page must not hand it out.
        (await GetDocsHtmlAsync()).Should().NotContain(TestSettings.OperatorKey);
    }

    private async Task<string> GetDocsHtmlAsync()
    {
        using var response = await _client.GetAsync(DocsPage.AbsolutePath);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Every src and href of the page, and every module imported by an inline script.</summary>
    private static List<string> AssetReferences(string html) =>
        SrcOrHref().Matches(html).Select(match => match.Groups["url"].Value)
            .Concat(ModuleImport().Matches(html).Select(match => match.Groups["url"].Value))
            .Concat(JsonAssetValue().Matches(html).Select(match => match.Groups["url"].Value))
            .Distinct()
            .ToList();

    /// <summary>The <c>sources[].url</c> of Scalar's configuration object.</summary>
    private static List<string> SourceUrls(string html)
    {
        var configuration = ConfigurationObject().Match(html);
        configuration.Success.Should().BeTrue("the page passes Scalar a configuration object");
        return JsonDocument.Parse(configuration.Value).RootElement.GetProperty("sources").EnumerateArray()
            .Select(source => source.GetProperty("url").GetString()!)
            .ToList();
    }

    [GeneratedRegex("""(?:src|href)\s*=\s*["'](?<url>[^"']+)["']""", RegexOptions.IgnoreCase)]
    private static partial Regex SrcOrHref();

    [GeneratedRegex("""import\s+[^;]*?from\s+["'](?<url>[^"']+)["']""")]
    private static partial Regex ModuleImport();

    [GeneratedRegex(""""(?:favicon|cdn|proxyUrl)"\s*:\s*"(?<url>[^"]+)"""")]
    private static partial Regex JsonAssetValue();

    [GeneratedRegex("""\{"[^\n]*"sources"[^\n]*\}""")]
    private static partial Regex ConfigurationObject();
}
