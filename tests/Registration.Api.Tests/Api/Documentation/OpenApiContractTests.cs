using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Registration.Testing;

namespace Registration.Api.Tests.Api.Documentation;

/// <summary>
/// The OpenAPI document is exact enough to generate a client from: request strings are strings (never null),
/// the optional stays optional, ids are UUIDs, parameters have their types, every problem response says
/// which problem types it carries, the headers a client needs are there, and what the document, the README
/// and the API itself show all validate against the document's schemas.
/// </summary>
public sealed partial class OpenApiContractTests(ApiFixture factory) : ApiTest(factory)
{
    [Theory]
    [InlineData("post", "/v1/users", "email,password", "email,password")]
    [InlineData("post", "/v1/users/me/activation", "code", "code")]
    [InlineData("patch", "/v1/users/me", "email,password", "")]
    public async Task RequestBody_TypesEveryFieldAsAString_AndRequiresOnlyWhatTheRouteNeeds(string method, string path, string fields, string required)
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var schema = contract.Resolve(contract.RequestSchema(method, path));

        foreach (var field in fields.Split(','))
        {
            schema["properties"]![field]!["type"]!.GetValue<string>().Should().Be("string", "{0} is a string, never null (a null pre-filled by /docs is a 400)", field);
        }

        var requiredFields = schema["required"]?.AsArray().Select(name => name!.GetValue<string>()) ?? [];
        requiredFields.Should().BeEquivalentTo(required.Split(',', StringSplitOptions.RemoveEmptyEntries));
        contract.Operation(method, path).GetProperty("requestBody").GetProperty("required").GetBoolean().Should().BeTrue();
    }

    [Theory]
    [InlineData("post", "/v1/users", """{"email":null,"password":null}""")]
    [InlineData("post", "/v1/users", """{"email":"ada@example.com"}""")]
    [InlineData("post", "/v1/users/me/activation", """{"code":"427"}""")]
    [InlineData("post", "/v1/users/me/activation", """{"code":4270}""")]
    [InlineData("patch", "/v1/users/me", "{}")]
    public async Task RequestBody_ThatTheApiRefuses_DoesNotValidateEither(string method, string path, string body)
    {
        var contract = await OpenApiContract.GetAsync(Client);

        contract.Errors(contract.RequestSchema(method, path), JsonDocument.Parse(body).RootElement)
            .Should().NotBeEmpty("{0} is answered 400, so a generated client must not think it valid", body);
    }

    [Fact]
    public async Task Code_HasTheFourDigitPattern_AndStatusIsAnEnum()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var code = contract.Resolve(contract.RequestSchema("post", "/v1/users/me/activation"))["properties"]!["code"]!;
        var user = contract.Resolve(contract.ResponseSchema("get", "/v1/users/me", 200));

        code["pattern"]!.GetValue<string>().Should().Be(@"^\d{4}$");
        user["properties"]!["status"]!["enum"]!.AsArray().Select(value => value!.GetValue<string>()).Should().BeEquivalentTo("pending", "active");
        user["properties"]!["id"]!["format"]!.GetValue<string>().Should().Be("uuid");
    }

    [Fact]
    public async Task Parameters_HaveTheirTypes()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var list = Parameters(contract.Operation("get", "/v1/users"));
        var byId = Parameters(contract.Operation("get", "/v1/users/{id}"));

        list["limit"].GetProperty("type").GetString().Should().Be("integer");
        list["limit"].GetProperty("minimum").GetInt32().Should().Be(1);
        list["limit"].GetProperty("maximum").GetInt32().Should().Be(100);
        list["status"].GetProperty("enum").EnumerateArray().Select(value => value.GetString()).Should().BeEquivalentTo("pending", "active");
        byId["id"].GetProperty("format").GetString().Should().Be("uuid");
    }

    [Fact]
    public async Task EveryProblemResponse_NamesTheProblemTypesItCarries_WithAnExampleOfEach()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        foreach (var (method, path, operation) in contract.Operations())
        {
            foreach (var response in operation.GetProperty("responses").EnumerateObject().Where(response => response.Name[0] is '4' or '5'))
            {
                var media = response.Value.GetProperty("content").GetProperty("application/problem+json");
                var schema = contract.Resolve(media.GetProperty("schema"));
                var types = schema["properties"]?["type"]?["enum"]?.AsArray().Select(type => type!.GetValue<string>()).ToList()
                    ?? (schema["properties"]?["errors"] is not null ? ["/problems/validation-failed"] : []);
                types.Should().NotBeEmpty("{0} {1} {2} says which problem types it carries", method, path, response.Name);
                types.Should().BeSubsetOf(ProblemAssertions.DesignTypes);
                var examples = media.GetProperty("examples").EnumerateObject().Select(example => example.Value.GetProperty("value")).ToList();
                examples.Select(example => example.GetProperty("type").GetString()).Should().BeEquivalentTo(types, "{0} {1} {2} shows each type", method, path, response.Name);
                examples.Should().OnlyContain(example => example.GetProperty("status").GetInt32().ToString(CultureInfo.InvariantCulture) == response.Name);
            }

            operation.GetProperty("responses").TryGetProperty("500", out _).Should().BeTrue("{0} {1} documents the defect answer", method, path);
        }
    }

    [Fact]
    public async Task ProblemSchema_HasAnIntegerStatus_AndDocumentsTheTraceId()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var problem = contract.Document.GetProperty("components").GetProperty("schemas").GetProperty("Problem");

        problem.GetProperty("properties").GetProperty("status").GetProperty("type").GetString().Should().Be("integer");
        problem.GetProperty("properties").TryGetProperty("traceId", out _).Should().BeTrue();
        problem.GetProperty("required").EnumerateArray().Select(name => name.GetString()).Should().Contain(["type", "title", "status", "traceId"]);
    }

    [Theory]
    [InlineData("post", "/v1/users", "201", "Location")]
    [InlineData("post", "/v1/users", "429", "Retry-After")]
    [InlineData("post", "/v1/users/me/activation-code", "429", "Retry-After")]
    [InlineData("get", "/v1/users/me", "503", "Retry-After")]
    [InlineData("get", "/v1/users/me", "401", "WWW-Authenticate")]
    [InlineData("get", "/v1/users", "401", "WWW-Authenticate")]
    public async Task Response_DocumentsTheHeaderAClientNeeds(string method, string path, string status, string header)
    {
        var contract = await OpenApiContract.GetAsync(Client);

        var response = contract.Operation(method, path).GetProperty("responses").GetProperty(status);

        response.GetProperty("headers").TryGetProperty(header, out _).Should().BeTrue("{0} {1} {2} documents {3}", method, path, status, header);
    }

    [Fact]
    public async Task Document_HasARelativeServer_ShortSummaries_AndSecurityOnEveryOperation()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        contract.Document.GetProperty("servers").EnumerateArray().Select(server => server.GetProperty("url").GetString())
            .Should().Equal(["/"], "the API's own origin, whatever proxy it is reached through (and no trailing slash on a host)");
        foreach (var (method, path, operation) in contract.Operations())
        {
            var summary = operation.GetProperty("summary").GetString()!;
            summary.Should().NotEndWith(".", "{0} {1}: a summary is a title, not a sentence", method, path);
            summary.Split(' ').Should().HaveCountLessThanOrEqualTo(5, "{0} {1}: '{2}' fits in a sidebar", method, path, summary);
            operation.TryGetProperty("security", out _).Should().BeTrue("{0} {1} says which credentials it takes, if any", method, path);
        }

        contract.Operation("post", "/v1/users").GetProperty("security").GetArrayLength().Should().Be(0, "registration takes no credentials");
    }

    [Fact]
    public async Task EveryExampleInTheDocument_ValidatesAgainstItsSchema()
    {
        var contract = await OpenApiContract.GetAsync(Client);
        var checkedExamples = 0;

        foreach (var (method, path, operation) in contract.Operations())
        {
            var media = new List<(string Where, JsonElement Media)>();
            if (operation.TryGetProperty("requestBody", out var body))
            {
                media.AddRange(body.GetProperty("content").EnumerateObject().Select(content => ($"{method} {path} request", content.Value)));
            }

            media.AddRange(operation.GetProperty("responses").EnumerateObject()
                .Where(response => response.Value.TryGetProperty("content", out _))
                .SelectMany(response => response.Value.GetProperty("content").EnumerateObject()
                    .Select(content => ($"{method} {path} {response.Name}", content.Value))));

            foreach (var (where, content) in media)
            {
                var schema = content.GetProperty("schema");
                var examples = new List<JsonElement>();
                if (content.TryGetProperty("example", out var example))
                {
                    examples.Add(example);
                }

                if (content.TryGetProperty("examples", out var named))
                {
                    examples.AddRange(named.EnumerateObject().Select(entry => entry.Value.GetProperty("value")));
                }

                if (contract.Resolve(schema)["examples"] is JsonArray schemaExamples)
                {
                    examples.AddRange(schemaExamples.Select(node => JsonDocument.Parse(node!.ToJsonString()).RootElement.Clone()));
                }

                foreach (var instance in examples)
                {
                    contract.Errors(schema, instance).Should().BeEmpty("the example of {0} ({1}) fits its schema", where, instance.GetRawText());
                    checkedExamples++;
                }
            }
        }

        checkedExamples.Should().BeGreaterThan(30, "every operation shows its bodies and problems");
    }

    [Fact]
    public async Task ReadmeCurlBodies_ValidateAgainstTheDocumentsRequestSchemas()
    {
        var contract = await OpenApiContract.GetAsync(Client);

        // Continued lines (a trailing backslash) read as one command.
        var bodies = CurlWithBody().Matches(Repository.ReadText("README.md").Replace("\\\n", " ", StringComparison.Ordinal))
            .Select(match => (Method: match.Groups["method"].Value.ToLowerInvariant(), Path: match.Groups["path"].Value, Body: match.Groups["body"].Value))
            .ToList();

        bodies.Select(body => $"{body.Method} {body.Path}").Distinct().Should().Contain(
            ["post /v1/users", "post /v1/users/me/activation", "patch /v1/users/me"], "the README shows a body for each JSON route");
        foreach (var (method, path, body) in bodies)
        {
            contract.Errors(contract.RequestSchema(method, path), JsonDocument.Parse(body).RootElement)
                .Should().BeEmpty("the README's {0} {1} body {2} fits the document", method, path, body);
        }
    }

    [Fact]
    public async Task WhatTheApiAnswers_ValidatesAgainstTheDocumentedSchemaOfItsStatus()
    {
        var contract = await OpenApiContract.GetAsync(Client);
        var user = TestUser.New();
        var operatorCredentials = ApiRequests.OperatorCredentials;

        var exchanges = new List<(string Method, string Path, HttpResponseMessage Response)>
        {
            ("post", "/v1/users", await Client.RegisterAsync(user)),
            ("post", "/v1/users", await Client.RegisterAsync(user)),
            ("post", "/v1/users", await Client.PostAsync("/v1/users", ApiRequests.Json("""{"email":"ada@example.com","password":"""))),
            ("post", "/v1/users", await Client.PostAsync("/v1/users", new StringContent("{}", Encoding.UTF8, "text/plain"))),
            ("get", "/v1/users/me", await Client.GetMeAsync(user)),
            ("get", "/v1/users/me", await Client.GetMeAsync(credentials: null)),
            ("post", "/v1/users/me/activation", await Client.ActivateAsync(user, "12")),
            ("post", "/v1/users/me/activation", await Client.ActivateAsync(user, ApiRequests.OtherThan((await Environment.Database.GetCurrentCodeAsync(user.Id)).Code))),
            ("post", "/v1/users/me/activation-code", await Client.RequestNewCodeAsync(user)),
            ("get", "/v1/users", await Client.SendAsync(HttpMethod.Get, "/v1/users?limit=2", operatorCredentials)),
            ("get", "/v1/users", await Client.SendAsync(HttpMethod.Get, "/v1/users?limit=0", operatorCredentials)),
            ("get", "/v1/users/{id}", await Client.SendAsync(HttpMethod.Get, $"/v1/users/{user.Id}", operatorCredentials)),
            ("get", "/v1/users/{id}", await Client.SendAsync(HttpMethod.Get, $"/v1/users/{Guid.NewGuid()}", operatorCredentials)),
        };

        foreach (var (method, path, response) in exchanges)
        {
            using (response)
            {
                var status = (int)response.StatusCode;
                var mediaType = response.Content.Headers.ContentType?.MediaType ?? OpenApiContract.Json;
                var body = await response.ReadJsonAsync();
                contract.Operation(method, path).GetProperty("responses").TryGetProperty(status.ToString(CultureInfo.InvariantCulture), out _)
                    .Should().BeTrue("{0} {1} answered {2}, which the document must list", method, path, status);
                contract.Errors(contract.ResponseSchema(method, path, status, mediaType), body)
                    .Should().BeEmpty("{0} {1} answered {2} {3}, which must fit the document", method, path, status, body.GetRawText());
            }
        }
    }

    private static Dictionary<string, JsonElement> Parameters(JsonElement operation) =>
        operation.GetProperty("parameters").EnumerateArray().ToDictionary(parameter => parameter.GetProperty("name").GetString()!, parameter => parameter.GetProperty("schema"));

    /// <summary>A README curl line with a method, an API path and a JSON body: <c>-X POST $API/v1/users ... -d '{...}'</c>.</summary>
    [GeneratedRegex("""curl [^\n]*?-X (?<method>POST|PATCH|PUT)\s+(?:\$API|http://localhost:8000)(?<path>/v1/[^\s'"?]*)[^\n]*?-d '(?<body>[^']*)'""")]
    private static partial Regex CurlWithBody();
}
