using System.Text.Json;

namespace Registration.Api.Tests.Api.Documentation;

/// <summary>GET /openapi/v1.json: an OpenAPI 3 document describing every route of the design, its bodies, problems and security.</summary>
public sealed class OpenApiDocumentTests(ApiFixture factory) : ApiTest(factory)
{
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
        using var response = await Client.GetAsync("/openapi/v1.json");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (response.Content.Headers.ContentType?.MediaType).Should().Be("application/json");
        var document = await response.ReadJsonAsync();
        document.GetProperty("openapi").GetString().Should().StartWith("3");
        document.GetProperty("info").GetProperty("title").GetString().Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task OpenApi_IsLeftInTestResults_ForTheLintOfScriptsTestSh()
    {
        using var response = await Client.GetAsync("/openapi/v1.json");
        var document = await response.Content.ReadAsStringAsync();

        // scripts/test.sh runs `redocly lint` (recommended rules) on it when Node.js is installed.
        var path = Registration.Testing.Artifacts.Write(Registration.Testing.Artifacts.OpenApiDocument, document);

        JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("openapi").GetString().Should().StartWith("3.1");
    }

    [Theory]
    [MemberData(nameof(DesignRoutes))]
    public async Task OpenApi_DescribesEveryRouteOfTheDesign(string method, string path)
    {
        var contract = await OpenApiContract.GetAsync(Client);

        contract.Document.GetProperty("paths").TryGetProperty(path, out var pathItem).Should().BeTrue("{0} is documented", path);
        pathItem.TryGetProperty(method, out var operation).Should().BeTrue("{0} {1} is documented", method, path);
        operation.GetProperty("responses").EnumerateObject().Select(response => response.Name)
            .Should().Contain(status => status.StartsWith('2'), "{0} {1} documents its success", method, path);
    }

    [Fact]
    public async Task OpenApi_ListsNoRouteOutsideTheDesign()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var documented = contract.Operations().Select(operation => $"{operation.Method} {operation.Path}");
        documented.Should().BeEquivalentTo(DesignRoutes.Select(row => $"{row[0]} {row[1]}"));
    }

    [Fact]
    public async Task OpenApi_DeclaresBasicAndBearerSecuritySchemes()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var schemes = contract.Document.GetProperty("components").GetProperty("securitySchemes").EnumerateObject()
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
        var contract = await OpenApiContract.GetAsync(Client);

        var operation = contract.Operation(method, path);
        var required = operation.GetProperty("security").EnumerateArray().SelectMany(requirement => requirement.EnumerateObject()).Select(name => name.Name);
        var schemes = contract.Document.GetProperty("components").GetProperty("securitySchemes");
        required.Select(name => schemes.GetProperty(name).GetProperty("scheme").GetString()?.ToLowerInvariant())
            .Should().ContainSingle().Which.Should().Be(scheme);
    }

    [Fact]
    public async Task OpenApi_LeavesRegistration_Unauthenticated()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var register = contract.Operation("post", "/v1/users");
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
        var contract = await OpenApiContract.GetAsync(Client);

        var responses = contract.Operation(method, path).GetProperty("responses");
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
        var contract = await OpenApiContract.GetAsync(Client);

        var schema = contract.Resolve(contract.RequestSchema(method, path));
        schema["properties"]!.AsObject().Select(property => property.Key)
            .Should().BeEquivalentTo(properties.Split(','));
    }

    [Theory]
    [InlineData("post", "/v1/users", 201)]
    [InlineData("post", "/v1/users/me/activation", 200)]
    [InlineData("post", "/v1/users/me/email-confirmation", 200)]
    [InlineData("get", "/v1/users/me", 200)]
    [InlineData("patch", "/v1/users/me", 200)]
    [InlineData("get", "/v1/users/{id}", 200)]
    public async Task OpenApi_DescribesTheUserBody_WithoutAnyPasswordOrHash(string method, string path, int status)
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var schema = contract.Resolve(contract.ResponseSchema(method, path, status));
        schema["properties"]!.AsObject().Select(property => property.Key)
            .Should().BeEquivalentTo(ApiRequests.UserBodyProperties);
    }

    [Fact]
    public async Task OpenApi_DescribesTheListPage_AndTheResendAnswer()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var page = contract.Resolve(contract.ResponseSchema("get", "/v1/users", 200));
        var resend = contract.Resolve(contract.ResponseSchema("post", "/v1/users/me/activation-code", 202));
        var parameters = contract.Operation("get", "/v1/users").GetProperty("parameters").EnumerateArray()
            .Select(parameter => parameter.GetProperty("name").GetString());

        page["properties"]!.AsObject().Select(property => property.Key).Should().BeEquivalentTo("items", "next");
        resend["properties"]!.AsObject().Select(property => property.Key).Should().BeEquivalentTo("expiresAt");
        parameters.Should().BeEquivalentTo("status", "limit", "after");
    }
}
