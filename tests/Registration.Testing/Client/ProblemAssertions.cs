using System.Net.Http.Json;
using FluentAssertions;

namespace Registration.Testing.Client;

public static class ProblemAssertions
{
    public const string ProblemJson = "application/problem+json";

    /// <summary>Every problem <c>type</c> the design names; no answer of the API carries another.</summary>
    public static readonly IReadOnlyList<string> DesignTypes =
    [
        "/problems/validation-failed", "/problems/email-taken", "/problems/unauthorized", "/problems/forbidden",
        "/problems/not-found", "/problems/already-active", "/problems/activation-code-expired",
        "/problems/activation-code-invalid", "/problems/activation-code-locked", "/problems/resend-too-soon",
        "/problems/too-many-requests", "/problems/unavailable", "/problems/no-pending-change",
        "/problems/payload-too-large", "/problems/unsupported-media-type", "/problems/method-not-allowed",
        "/problems/internal",
    ];

    /// <summary>
    /// Asserts an RFC 9457 problem: the status, <c>application/problem+json</c>, the contract's <c>type</c>,
    /// a <c>status</c> member equal to the HTTP status, a title, a <c>traceId</c>, and nothing that looks like a stack trace
    /// or SQL. Returns the body for further checks.
    /// </summary>
    public static async Task<JsonElement> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, "the body was: {0}", body);
        (response.Content.Headers.ContentType?.MediaType).Should().Be(ProblemJson, "the body was: {0}", body);

        var problem = JsonDocument.Parse(body).RootElement.Clone();
        problem.GetProperty("type").GetString().Should().Be(type, "the body was: {0}", body);
        problem.GetProperty("status").GetInt32().Should().Be((int)status);
        problem.GetProperty("title").GetString().Should().NotBeNullOrWhiteSpace();
        problem.TryGetProperty("traceId", out var traceId).Should().BeTrue("every problem carries the traceId that finds its log lines; the body was: {0}", body);
        traceId.GetString().Should().NotBeNullOrWhiteSpace();
        body.Should().NotContainAny(["   at ", "Exception", "SELECT ", "INSERT ", "Npgsql"]);
        return problem;
    }

    /// <summary>The problem <c>type</c> of an error answer, or null when the body is not a problem document.</summary>
    public static async Task<string?> ProblemTypeAsync(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.Content.Headers.ContentType?.MediaType != ProblemJson)
        {
            return null;
        }

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.TryGetProperty("type", out var type) ? type.GetString() : null;
    }

    /// <summary>A 400 <c>validation-failed</c> whose <c>errors</c> names <paramref name="field"/>.</summary>
    public static async Task<JsonElement> ShouldBeValidationProblemAsync(this HttpResponseMessage response, string field)
    {
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "/problems/validation-failed");
        problem.TryGetProperty("errors", out var errors).Should().BeTrue("a validation problem lists its errors");
        errors.EnumerateObject().Select(error => error.Name).Should().Contain(field);
        errors.GetProperty(field).EnumerateArray().Should().NotBeEmpty();
        return problem;
    }

    /// <summary>401 <c>unauthorized</c> with the Basic challenge of the contract.</summary>
    public static async Task ShouldBeUnauthorizedAsync(this HttpResponseMessage response)
    {
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "/problems/unauthorized");
        response.Headers.WwwAuthenticate.Should().ContainSingle()
            .Which.ToString().Should().StartWith("Basic realm=\"registration\"");
    }
}
