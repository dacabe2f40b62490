using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Registration.Api.Activation;
using Registration.Api.Operators;
using Registration.Api.Users;

namespace Registration.Api.Infrastructure;

/// <summary>The problem types a route answers with one status, for the OpenAPI document (see <see cref="OpenApiDescription"/>).</summary>
public sealed record ProblemResponseMetadata(int StatusCode, IReadOnlyList<string> Types);

/// <summary>
/// The OpenAPI document (/openapi/v1.json, rendered at /docs) as a client generator and a first-time reader
/// need it: exact request and response schemas (required strings are strings, never null; the code's
/// pattern; ids as UUIDs; status as an enum), examples that work when sent as they are, the problem types
/// each status carries, the headers that matter (Location, Retry-After, WWW-Authenticate), and each
/// route's security. Routes declare their problems with <see cref="ProducesProblemTypes{TBuilder}"/>; every
/// /v1 route also answers 500 <c>internal</c> and 503 <c>unavailable</c>.
/// </summary>
public static class OpenApiDescription
{
    public const string ProblemSchema = "Problem";
    public const string ValidationProblemSchema = "ValidationProblem";

    /// <summary>A sample user of the examples: registering it, then signing in with it, works on a fresh database.</summary>
    public const string ExampleEmail = "ada@example.com";

    public const string ExamplePassword = "correct horse";

    private const string ExampleUserId = "0193a7e2-5c3b-7a10-8d3e-6f1c2b9a4e70";
    private const string ExampleTraceId = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /// <summary>Declares that the route answers <paramref name="statusCode"/> with these problem types.</summary>
    public static TBuilder ProducesProblemTypes<TBuilder>(this TBuilder builder, int statusCode, params string[] types)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new ProblemResponseMetadata(statusCode, types));
    }

    /// <summary>A JSON body of <typeparamref name="TRequest"/>: 400 when it is not valid, 413 too large, 415 not JSON.</summary>
    public static RouteHandlerBuilder AcceptsJson<TRequest>(this RouteHandlerBuilder builder)
        where TRequest : notnull =>
        builder.Accepts<TRequest>("application/json")
            .ProducesProblemTypes(StatusCodes.Status400BadRequest, ProblemTypes.ValidationFailed)
            .ProducesProblemTypes(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge)
            .ProducesProblemTypes(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType);

    public static OpenApiOptions AddApiDescription(this OpenApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddDocumentTransformer((document, _, _) =>
        {
            DescribeDocument(document);
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            DescribeSchema(schema, context.JsonTypeInfo.Type);
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            DescribeOperation(operation, context);
            return Task.CompletedTask;
        });
        return options;
    }

    private static void DescribeDocument(OpenApiDocument document)
    {
        document.Info.Title = "Registration API";
        document.Info.Version = "v1";
        document.Info.Description = """
            Sign up with an email and a password, then activate the account with the 4-digit code sent to that
            address. Try it in this order:

            1. **Register a user** (`POST /v1/users`): 201 with `status: "pending"`; a code is emailed (with
               `./scripts/run.sh` it appears in the worker's output, with Docker in Mailpit).
            2. **Activate the account** (`POST /v1/users/me/activation`) with the code, signed in with HTTP Basic
               (the email and password you registered; the sample credentials are those of the sample body).
               A code lives one minute; **Request a new activation code** gives another.
            3. **Read your account** (`GET /v1/users/me`): `status: "active"`.

            Every error is an RFC 9457 `application/problem+json` document whose relative `type` says what
            happened (each response lists the types it can carry), with a `traceId` to quote when reporting it.
            Operator routes take `Authorization: Bearer <Admin:ApiKey>`.
            """;
        // Relative: the API's own origin, whatever host, port or proxy the document was fetched through.
        document.Servers = [new OpenApiServer { Url = "/", Description = "This API (the origin this document was served from)" }];
        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "Users", Description = "Sign-up, activation, and the account that the Basic credentials (email:password) name." },
            new() { Name = "Operators", Description = "Any user, by id: `Authorization: Bearer <Admin:ApiKey>`. An empty key closes these routes (403)." },
        };

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BasicAuthentication.Scheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "basic",
            Description = "The user's email and password (UTF-8).",
        };
        document.Components.SecuritySchemes[AdminKeyAuthentication.Scheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The operator key (the Admin:ApiKey setting).",
        };

        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[ProblemSchema] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "An RFC 9457 problem document.",
            Required = new HashSet<string> { "type", "title", "status", "traceId" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Format = "uri-reference",
                    Description = "What happened, as a relative URI: " + string.Join(", ", ProblemTypes.Descriptions.Keys.Select(type => $"`{type}`")) + ".",
                    Examples = [JsonValue.Create(ProblemTypes.ValidationFailed)],
                },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A short, human-readable summary." },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "400", Maximum = "599", Description = "The HTTP status code." },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "More about this occurrence, when there is more to say." },
                ["traceId"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "The W3C trace context of the request: it finds the request's log lines and trace. Quote it when reporting a problem.",
                    Examples = [JsonValue.Create(ExampleTraceId)],
                },
            },
        };
        document.Components.Schemas[ValidationProblemSchema] = new OpenApiSchema
        {
            Description = "A problem of type `/problems/validation-failed`, with what is wrong in each field.",
            AllOf = [new OpenApiSchemaReference(ProblemSchema, document)],
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "errors" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "Field name (or `body` for the body as a whole) to the messages about it.",
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                },
            },
        };
    }

    private static void DescribeSchema(OpenApiSchema schema, Type type)
    {
        if (type == typeof(RegisterUserRequest))
        {
            schema.Required = new HashSet<string> { "email", "password" };
            SetProperty(schema, "email", EmailSchema("The address to register; the activation code is emailed there."));
            SetProperty(schema, "password", PasswordSchema());
            schema.Examples = [ExampleOf(type)!];
        }
        else if (type == typeof(UpdateUserRequest))
        {
            // Both optional, at least one: a new password, a new email, or both.
            schema.Required = new HashSet<string>();
            schema.MinProperties = 1;
            SetProperty(schema, "email", EmailSchema("A new address: it must be free. A code is sent to it; an active account keeps its current address until the code is confirmed."));
            SetProperty(schema, "password", PasswordSchema());
            schema.Examples = [ExampleOf(type)!];
        }
        else if (type == typeof(CodeRequest))
        {
            schema.Required = new HashSet<string> { "code" };
            SetProperty(schema, "code", CodeSchema());
            schema.Examples = [ExampleOf(type)!];
        }
        else if (type == typeof(UserResponse))
        {
            SetProperty(schema, "id", new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid", Description = "The user's id." });
            SetProperty(schema, "email", new OpenApiSchema { Type = JsonSchemaType.String, Format = "email", Description = "The sign-in address." });
            SetProperty(schema, "status", new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = [JsonValue.Create("pending"), JsonValue.Create("active")],
                Description = "`pending` until the account is activated with the emailed code, then `active` for good.",
            });
            SetProperty(schema, "createdAt", new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" });
            SetProperty(schema, "activatedAt", new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Format = "date-time", Description = "Null while pending." });
            SetProperty(schema, "pendingEmail", new OpenApiSchema
            {
                Type = JsonSchemaType.String | JsonSchemaType.Null,
                Format = "email",
                Description = "An address change waiting to be confirmed with the code sent to it; null when none.",
            });

            schema.Examples = [ExampleUser("pending")];
        }
        else if (type == typeof(UserPage))
        {
            SetProperty(schema, "next", new OpenApiSchema
            {
                Type = JsonSchemaType.String | JsonSchemaType.Null,
                Description = "Pass as `after` for the next page; null on the last page.",
            });
            schema.Examples = [new JsonObject { ["items"] = new JsonArray(ExampleUser("active")), ["next"] = "AAhdMn3Ag7ABk6fiXDt6EI0-bxwrmk5w" }];
        }
        else if (type == typeof(ActivationCodeResponse))
        {
            SetProperty(schema, "expiresAt", new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time", Description = "The new code works until then." });
            schema.Examples = [new JsonObject { ["expiresAt"] = "2026-01-05T09:31:00+00:00" }];
        }
    }

    /// <summary>The sample body of a request type: sent as it is, it is accepted (on a fresh database, in this order).</summary>
    private static JsonObject? ExampleOf(Type requestType) =>
        requestType == typeof(RegisterUserRequest) ? new JsonObject { ["email"] = ExampleEmail, ["password"] = ExamplePassword }
        : requestType == typeof(UpdateUserRequest) ? new JsonObject { ["email"] = "ada@example.org" }
        : requestType == typeof(CodeRequest) ? new JsonObject { ["code"] = "0427" }
        : null;

    private static void DescribeOperation(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var endpoint = context.Description.ActionDescriptor.EndpointMetadata;
        if (operation.RequestBody is OpenApiRequestBody { Content: { } bodies } body
            && endpoint.OfType<IAcceptsMetadata>().FirstOrDefault()?.RequestType is { } requestType)
        {
            body.Required = true;
            foreach (var media in bodies.Values)
            {
                // On the media type too: what /docs pre-fills the request body with.
                media.Example = ExampleOf(requestType);
            }
        }

        var scheme = SecuritySchemeOf(endpoint);
        operation.Security = scheme is null
            ? []
            : [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] }];

        DescribeParameters(operation);
        operation.Responses ??= [];
        DescribeSuccess(operation);

        var problems = endpoint.OfType<ProblemResponseMetadata>()
            .Concat(scheme is null ? [] : [new ProblemResponseMetadata(StatusCodes.Status401Unauthorized, [ProblemTypes.Unauthorized])])
            .Concat(scheme == AdminKeyAuthentication.Scheme ? [new ProblemResponseMetadata(StatusCodes.Status403Forbidden, [ProblemTypes.Forbidden])] : [])
            .Append(new ProblemResponseMetadata(StatusCodes.Status500InternalServerError, [ProblemTypes.Internal]))
            .Append(new ProblemResponseMetadata(StatusCodes.Status503ServiceUnavailable, [ProblemTypes.Unavailable]))
            .GroupBy(problem => problem.StatusCode, problem => problem.Types);
        foreach (var status in problems)
        {
            operation.Responses[status.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)] =
                ProblemResponse(status.Key, [.. status.SelectMany(types => types).Distinct()], scheme, context.Document!);
        }

        // Problem responses the framework added without types (ProducesProblem): the contract's type for the status.
        foreach (var (key, value) in operation.Responses.ToList())
        {
            if (int.TryParse(key, out var code) && code >= 400 && value is OpenApiResponse { Content: { } content } && !content.ContainsKey(ProblemJsonWriter.ContentType))
            {
                operation.Responses[key] = ProblemResponse(code, [ProblemTypes.ForStatus(code)], scheme, context.Document!);
            }
        }
    }

    private static void DescribeParameters(OpenApiOperation operation)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            switch (parameter.Name)
            {
                case "id" when parameter.In == ParameterLocation.Path:
                    parameter.Description = "The user's id.";
                    parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" };
                    parameter.Example = ExampleUserId;
                    break;
                case "status":
                    parameter.Description = "Only users with this status.";
                    parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("pending"), JsonValue.Create("active")] };
                    break;
                case "limit":
                    parameter.Description = "Users per page.";
                    parameter.Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Integer,
                        Format = "int32",
                        Minimum = "1",
                        Maximum = ListUsers.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        Default = JsonValue.Create(ListUsers.DefaultLimit),
                    };
                    break;
                case "after":
                    parameter.Description = "The `next` of the previous page; leave out for the first page.";
                    parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.String };
                    break;
            }
        }
    }

    private static void DescribeSuccess(OpenApiOperation operation)
    {
        foreach (var (key, value) in operation.Responses!)
        {
            if (value is not OpenApiResponse response || !key.StartsWith('2'))
            {
                continue;
            }

            response.Description = (operation.OperationId, key) switch
            {
                (_, "201") => "Created: the user, `pending`; the activation code is on its way by email.",
                (_, "202") => "Accepted: a new code is on its way by email; the previous one no longer works.",
                (_, "204") => "Deleted.",
                ("ActivateAccount", _) => "Activated: the account, now `active`.",
                ("UpdateCurrentUser", _) => "Updated: the account as it is now.",
                ("ListUsers", _) => "A page of users, oldest first.",
                _ => "The account.",
            };
            if (operation.OperationId == "ActivateAccount" && response.Content?.TryGetValue("application/json", out var activated) == true)
            {
                activated.Example = ExampleUser("active");
            }
            if (key == "201")
            {
                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                response.Headers["Location"] = new OpenApiHeader
                {
                    Description = "The new user's URL (`/v1/users/{id}`, the operator route).",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri-reference" },
                    Example = $"/v1/users/{ExampleUserId}",
                };
            }
        }
    }

    private static OpenApiResponse ProblemResponse(int status, IReadOnlyList<string> types, string? scheme, OpenApiDocument document)
    {
        var schema = status == StatusCodes.Status400BadRequest && types.SequenceEqual([ProblemTypes.ValidationFailed])
            ? new OpenApiSchemaReference(ValidationProblemSchema, document)
            : (IOpenApiSchema)new OpenApiSchema
            {
                AllOf = [new OpenApiSchemaReference(ProblemSchema, document)],
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. types.Select(type => (JsonNode)JsonValue.Create(type))] },
                },
            };
        var response = new OpenApiResponse
        {
            Description = string.Join(" ", types.Select(type => $"`{type}`: {ProblemTypes.Descriptions.GetValueOrDefault(type, "")}")),
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [ProblemJsonWriter.ContentType] = new()
                {
                    Schema = schema,
                    Examples = types.ToDictionary(
                        type => type["/problems/".Length..],
                        type => (IOpenApiExample)new OpenApiExample { Summary = type, Value = ExampleProblem(type, status) }),
                },
            },
        };

        if (status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before trying again.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
                    Example = JsonValue.Create(30),
                },
            };
        }
        else if (status == StatusCodes.Status401Unauthorized)
        {
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["WWW-Authenticate"] = new OpenApiHeader
                {
                    Description = "The challenge: the credentials this route takes.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    Example = scheme == AdminKeyAuthentication.Scheme ? AdminKeyAuthentication.Challenge : BasicAuthentication.Challenge,
                },
            };
        }

        return response;
    }

    private static JsonObject ExampleProblem(string type, int status)
    {
        var problem = new JsonObject
        {
            ["type"] = type,
            ["title"] = ExampleTitle(type),
            ["status"] = status,
        };
        if (type == ProblemTypes.ValidationFailed)
        {
            problem["errors"] = new JsonObject { ["password"] = new JsonArray("The password must be at least 8 characters.") };
        }

        problem["traceId"] = ExampleTraceId;
        return problem;
    }

    /// <summary>The title the API sends, from the same factories where there is one.</summary>
    private static string ExampleTitle(string type) => type switch
    {
        ProblemTypes.ValidationFailed => Problems.Validation("password", "-").ProblemDetails.Title!,
        ProblemTypes.EmailTaken => Problems.EmailTaken().ProblemDetails.Title!,
        ProblemTypes.AlreadyActive => Problems.AlreadyActive().ProblemDetails.Title!,
        ProblemTypes.ActivationCodeExpired => Problems.CodeExpired().ProblemDetails.Title!,
        ProblemTypes.ActivationCodeInvalid => Problems.CodeInvalid(4).ProblemDetails.Title!,
        ProblemTypes.ActivationCodeLocked => Problems.CodeLocked().ProblemDetails.Title!,
        ProblemTypes.ResendTooSoon => Problems.ResendTooSoon(TimeSpan.FromSeconds(30)).ProblemDetails.Title!,
        ProblemTypes.NoPendingChange => Problems.NoPendingChange().ProblemDetails.Title!,
        ProblemTypes.NotFound => Problems.NotFound().ProblemDetails.Title!,
        ProblemTypes.UnsupportedMediaType => Problems.UnsupportedMediaType().ProblemDetails.Title!,
        ProblemTypes.PayloadTooLarge => Problems.PayloadTooLarge(4096).ProblemDetails.Title!,
        ProblemTypes.Unauthorized => "Valid Basic credentials (email:password) are required.",
        ProblemTypes.Forbidden => "These credentials do not grant operator access.",
        ProblemTypes.TooManyRequests => "Too many requests from this address. Try again later.",
        _ => ProblemTypes.TitleForStatus(type == ProblemTypes.Unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError),
    };

    private static JsonObject ExampleUser(string status) => new()
    {
        ["id"] = ExampleUserId,
        ["email"] = ExampleEmail,
        ["status"] = status,
        ["createdAt"] = "2026-01-05T09:30:00+00:00",
        ["activatedAt"] = status == "active" ? "2026-01-05T09:30:41+00:00" : null,
        ["pendingEmail"] = null,
    };

    private static string? SecuritySchemeOf(IList<object> endpointMetadata)
    {
        var authorize = endpointMetadata.OfType<IAuthorizeData>().ToList();
        if (authorize.Count == 0)
        {
            return null;
        }

        return authorize.Any(data => data.Policy == AdminKeyAuthentication.Policy) ? AdminKeyAuthentication.Scheme : BasicAuthentication.Scheme;
    }

    private static void SetProperty(OpenApiSchema schema, string name, OpenApiSchema property)
    {
        schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
        schema.Properties[name] = property;
    }

    private static OpenApiSchema EmailSchema(string description) => new()
    {
        Type = JsonSchemaType.String,
        Format = "email",
        MaxLength = 254,
        Description = description + " Trimmed, compared case-insensitively; one `@`, a dot in the domain, no `:`.",
        Examples = [JsonValue.Create(ExampleEmail)],
    };

    private static OpenApiSchema PasswordSchema() => new()
    {
        Type = JsonSchemaType.String,
        Format = "password",
        MinLength = 8,
        MaxLength = 72,
        Description = "At least 8 characters and at most 72 UTF-8 bytes (bcrypt's limit: a longer one is refused, never truncated).",
        Examples = [JsonValue.Create(ExamplePassword)],
    };

    private static OpenApiSchema CodeSchema() => new()
    {
        Type = JsonSchemaType.String,
        Pattern = @"^\d{4}$",
        MinLength = 4,
        MaxLength = 4,
        Description = "The 4-digit code from the email, as a string (leading zeros count).",
        Examples = [JsonValue.Create("0427")],
    };
}
