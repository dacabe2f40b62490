using System.Text.Json;

namespace Registration.Api.Tests.Api.Documentation;

/// <summary>GET /openapi/v1.json: an OpenAPI 3 document describing every route of the design, its bodies, problems and security.</summary>
public sealed class OpenApiDocumentTests(ApiFixture factory) : IClassFixture<ApiFixture>
{
    private readonly HttpClient _client = factory.CreateClient();

    public static TheoryData<string, string> DesignRoutes => new()
    {
        { "post", "/v1/users" },
        { "post", "/v1/users/me/activation" },
        { "post", "/v1/users/me/activation-code" },
        { "get", "/v1/users/me" },
        { "patch", "/v1/users/me" },
        { "delete", "/v1/users/me" },
        { "post", "/v1/users/me/email-confirmation" },
        { "get", "/v1/users" },
        { "get", "/v1/users/{id}" },
        { "delete", "/v1/users/{id}" },
    };

    [Fact]
    public async Task OpenApi_IsAnOpenApi3JsonDocument_ServedWithoutAuthentication()
    {
        using var response = await _client.GetAsync("/openapi/v1.json");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (response.Content.Headers.ContentType?.MediaType).Should().Be("application/json");
        var document = await response.ReadJsonAsync();
        document.GetProperty("openapi").GetString().Should().StartWith("3");
        document.GetProperty("info").GetProperty("title").GetString().Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task OpenApi_IsLeftInTestResults_ForTheLintOfScriptsTestSh()
    {
        using var response = await _client.GetAsync("/openapi/v1.json");
        var document = await response.Content.ReadAsStringAsync();

        // scripts/test.sh runs `redocly lint` (recommended rules) on it when Node.js is installed.
        var path = Registration.Testing.Artifacts.Write(Registration.Testing.Artifacts.OpenApiDocument, document);

        JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("openapi").GetString().Should().StartWith("3.1");
    }

    [Theory]
    [MemberData(nameof(DesignRoutes))]
    public async Task OpenApi_DescribesEveryRouteOfTheDesign(string method, string path)
    {
        var document = await GetDocumentAsync();

        document.GetProperty("paths").TryGetProperty(path, out var pathItem).Should().BeTrue("{0} is documented", path);
        pathItem.TryGetProperty(method, out var operation).Should().BeTrue("{0} {1} is documented", method, path);
        operation.GetProperty("responses").EnumerateObject().Select(response => response.Name)
            .Should().Contain(status => status.StartsWith('2'), "{0} {1} documents its success", method, path);
    }

    [Fact]
    public async Task OpenApi_ListsNoRouteOutsideTheDesign()
    {
        var document = await GetDocumentAsync();

        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(member => member.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(operation => $"{operation.Name} {path.Name}"));
        documented.Should().BeEquivalentTo(DesignRoutes.Select(row => $"{row[0]} {row[1]}"));
    }

    [Fact]
    public async Task OpenApi_DeclaresBasicAndBearerSecuritySchemes()
    {
        var document = await GetDocumentAsync();

        var schemes = document.GetProperty("components").GetProperty("securitySchemes").EnumerateObject()
            .Select(scheme => (Type: scheme.Value.GetProperty("type").GetString(), Scheme: scheme.Value.GetProperty("scheme").GetString()?.ToLowerInvariant()))
            .ToList();
        schemes.Should().Contain(("http", "basic"));
        schemes.Should().Contain(("http", "bearer"));
    }

    [Theory]
    [InlineData("get", "/v1/users/me", "basic")]
    [InlineData("patch", "/v1/users/me", "basic")]
    [InlineData("delete", "/v1/users/me", "basic")]
    [InlineData("post", "/v1/users/me/activation", "basic")]
    [InlineData("post", "/v1/users/me/activation-code", "basic")]
    [InlineData("post", "/v1/users/me/email-confirmation", "basic")]
    [InlineData("get", "/v1/users", "bearer")]
    [InlineData("get", "/v1/users/{id}", "bearer")]
    [InlineData("delete", "/v1/users/{id}", "bearer")]
    public async Task OpenApi_MarksEachProtectedRoute_WithItsSecurityScheme(string method, string path, string scheme)
    {
        var document = await GetDocumentAsync();

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        var required = operation.GetProperty("security").EnumerateArray().SelectMany(requirement => requirement.EnumerateObject()).Select(name => name.Name);
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        required.Select(name => schemes.GetProperty(name).GetProperty("scheme").GetString()?.ToLowerInvariant())
            .Should().ContainSingle().Which.Should().Be(scheme);
    }

    [Fact]
    public async Task OpenApi_LeavesRegistration_Unauthenticated()
    {
        var document = await GetDocumentAsync();

        var register = document.GetProperty("paths").GetProperty("/v1/users").GetProperty("post");
        (!register.TryGetProperty("security", out var security) || security.GetArrayLength() == 0).Should().BeTrue();
    }

    [Theory]
    [InlineData("post", "/v1/users", "400,409,413,415,429")]
    [InlineData("post", "/v1/users/me/activation", "400,401,409,410,413,415,422,429")]
    [InlineData("post", "/v1/users/me/activation-code", "401,409,429")]
    [InlineData("get", "/v1/users/me", "401,429")]
    [InlineData("patch", "/v1/users/me", "400,401,409,413,415,429")]
    [InlineData("post", "/v1/users/me/email-confirmation", "400,401,409,410,413,415,422,429")]
    [InlineData("delete", "/v1/users/me", "401,429")]
    [InlineData("get", "/v1/users", "400,401,403,429")]
    [InlineData("get", "/v1/users/{id}", "401,403,404,429")]
    [InlineData("delete", "/v1/users/{id}", "401,403,404,429")]
    public async Task OpenApi_DocumentsTheProblemResponsesOfTheDesign_AsProblemJson(string method, string path, string statuses)
    {
        var document = await GetDocumentAsync();

        var responses = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses");
        foreach (var status in statuses.Split(','))
        {
            responses.TryGetProperty(status, out var response).Should().BeTrue("{0} {1} documents {2}", method, path, status);
            response.GetProperty("content").TryGetProperty("application/problem+json", out _)
                .Should().BeTrue("{0} {1} {2} is a problem", method, path, status);
        }
    }

    [Theory]
    [InlineData("post", "/v1/users", "email,password")]
    [InlineData("post", "/v1/users/me/activation", "code")]
    [InlineData("patch", "/v1/users/me", "email,password")]
    public async Task OpenApi_DescribesTheJsonRequestBody(string method, string path, string properties)
    {
        var document = await GetDocumentAsync();

        var body = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody");
        var schema = Resolve(document, body.GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        schema.GetProperty("properties").EnumerateObject().Select(property => property.Name)
            .Should().BeEquivalentTo(properties.Split(','));
    }

    [Theory]
    [InlineData("post", "/v1/users", "201")]
    [InlineData("post", "/v1/users/me/activation", "200")]
    [InlineData("post", "/v1/users/me/email-confirmation", "200")]
    [InlineData("get", "/v1/users/me", "200")]
    [InlineData("patch", "/v1/users/me", "200")]
    [InlineData("get", "/v1/users/{id}", "200")]
    public async Task OpenApi_DescribesTheUserBody_WithoutAnyPasswordOrHash(string method, string path, string status)
    {
        var document = await GetDocumentAsync();

        var content = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty(status).GetProperty("content");
        var schema = Resolve(document, content.GetProperty("application/json").GetProperty("schema"));
        schema.GetProperty("properties").EnumerateObject().Select(property => property.Name)
            .Should().BeEquivalentTo(ApiRequests.UserBodyProperties);
    }

    [Fact]
    public async Task OpenApi_DescribesTheListPage_AndTheResendAnswer()
    {
        var document = await GetDocumentAsync();
        var paths = document.GetProperty("paths");

        var page = Resolve(document, paths.GetProperty("/v1/users").GetProperty("get").GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        var resend = Resolve(document, paths.GetProperty("/v1/users/me/activation-code").GetProperty("post").GetProperty("responses")
            .GetProperty("202").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        var parameters = paths.GetProperty("/v1/users").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Select(parameter => parameter.GetProperty("name").GetString());

        page.GetProperty("properties").EnumerateObject().Select(property => property.Name).Should().BeEquivalentTo("items", "next");
        resend.GetProperty("properties").EnumerateObject().Select(property => property.Name).Should().BeEquivalentTo("expiresAt");
        parameters.Should().BeEquivalentTo("status", "limit", "after");
    }

    private async Task<JsonElement> GetDocumentAsync()
    {
        using var response = await _client.GetAsync("/openapi/v1.json");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    /// <summary>Follows a <c>$ref</c> to <c>#/components/schemas/...</c>.</summary>
    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        if (!schema.TryGetProperty("$ref", out var reference))
        {
            return schema;
        }

        var name = reference.GetString()!["#/components/schemas/".Length..];
        return document.GetProperty("components").GetProperty("schemas").GetProperty(name);
    }
}
