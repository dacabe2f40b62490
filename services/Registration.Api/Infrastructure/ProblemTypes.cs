using Microsoft.AspNetCore.Http.HttpResults;

namespace Registration.Api.Infrastructure;

/// <summary>The problem <c>type</c> values of the contract, and the responses built from them.</summary>
public static class ProblemTypes
{
    public const string ValidationFailed = "/problems/validation-failed";
    public const string EmailTaken = "/problems/email-taken";
    public const string Unauthorized = "/problems/unauthorized";
    public const string Forbidden = "/problems/forbidden";
    public const string NotFound = "/problems/not-found";
    public const string AlreadyActive = "/problems/already-active";
    public const string ActivationCodeExpired = "/problems/activation-code-expired";
    public const string ActivationCodeInvalid = "/problems/activation-code-invalid";
    public const string ActivationCodeLocked = "/problems/activation-code-locked";
    public const string ResendTooSoon = "/problems/resend-too-soon";
    public const string TooManyRequests = "/problems/too-many-requests";
    public const string Unavailable = Registration.Hosting.Health.UnavailableProblemType;
    public const string NoPendingChange = "/problems/no-pending-change";
    public const string PayloadTooLarge = "/problems/payload-too-large";
    public const string UnsupportedMediaType = "/problems/unsupported-media-type";
    public const string MethodNotAllowed = "/problems/method-not-allowed";

    /// <summary>500: a defect, never an expected outcome. The body says nothing of its cause; the log does.</summary>
    public const string Internal = "/problems/internal";

    /// <summary>What each type means, as the OpenAPI document and /docs tell it.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        [ValidationFailed] = "The body or a parameter is not valid; `errors` names each field and what is wrong with it.",
        [EmailTaken] = "The address belongs to an active account, to a pending one whose code is still live, or to a live email change.",
        [Unauthorized] = "Missing, malformed or wrong credentials.",
        [Forbidden] = "The credentials are valid but do not open this route (or the operator API is disabled).",
        [NotFound] = "No such user (or no such route).",
        [AlreadyActive] = "The account is already active.",
        [ActivationCodeExpired] = "The code has expired (whatever was sent): ask for a new one.",
        [ActivationCodeInvalid] = "The code is wrong; `detail` says how many tries are left before it locks.",
        [ActivationCodeLocked] = "Too many wrong tries: the code is locked until a new one is requested.",
        [ResendTooSoon] = "A code was issued less than the cooldown ago: wait `Retry-After` seconds.",
        [NoPendingChange] = "There is no email change waiting for a code: request one with `PATCH /v1/users/me` first.",
        [TooManyRequests] = "Too many requests from this client: wait `Retry-After` seconds.",
        [Unavailable] = "The service or its database is overloaded or unreachable for a moment: retry after `Retry-After` seconds.",
        [PayloadTooLarge] = "The body is larger than the limit (4 KB by default).",
        [UnsupportedMediaType] = "The body is not sent as `application/json`.",
        [MethodNotAllowed] = "The route exists but not with this method; `Allow` lists the methods it takes.",
        [Internal] = "A defect, never an expected outcome: it was logged; quote the `traceId` when reporting it.",
    };

    /// <summary>The type for a status the framework produced on its own (404 route, 405, 413, 415, ...).</summary>
    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => Unauthorized,
        StatusCodes.Status403Forbidden => Forbidden,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status413PayloadTooLarge => PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        StatusCodes.Status429TooManyRequests => TooManyRequests,
        StatusCodes.Status503ServiceUnavailable => Unavailable,
        >= 500 => Internal,
        _ => ValidationFailed,
    };

    /// <summary>The title of a problem the framework produced on its own (its reason phrase says little).</summary>
    public static string TitleForStatus(int status) => status switch
    {
        StatusCodes.Status404NotFound => "There is no such route.",
        StatusCodes.Status405MethodNotAllowed => "This route does not accept this method; the Allow header lists those it does.",
        StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaTypeTitle,
        StatusCodes.Status503ServiceUnavailable => "The service is temporarily unavailable. Try again shortly.",
        >= 500 => "An unexpected error occurred.",
        _ => "The request is malformed.",
    };

    internal const string UnsupportedMediaTypeTitle = "The request body must be JSON: send Content-Type: application/json.";
}

/// <summary>Problem responses used by the handlers; one place, so titles stay consistent.</summary>
public static class Problems
{
    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.ValidationFailed,
            Title = "The request is not valid.",
        });

    public static ProblemHttpResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult UnsupportedMediaType() => Create(
        StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType, ProblemTypes.UnsupportedMediaTypeTitle,
        detail: "Expected application/json (UTF-8, or a charset named in the Content-Type that .NET can decode).");

    public static ProblemHttpResult PayloadTooLarge(int maxBytes) => Create(
        StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge,
        "The request body is too large.", detail: $"The request body must be at most {maxBytes} bytes.");

    public static ProblemHttpResult EmailTaken() => Create(
        StatusCodes.Status409Conflict, ProblemTypes.EmailTaken,
        "This email address is already registered.");

    public static ProblemHttpResult AlreadyActive() => Create(
        StatusCodes.Status409Conflict, ProblemTypes.AlreadyActive,
        "The account is already active.");

    public static ProblemHttpResult CodeExpired() => Create(
        StatusCodes.Status410Gone, ProblemTypes.ActivationCodeExpired,
        "The activation code has expired. Ask for a new one.");

    public static ProblemHttpResult CodeInvalid(int attemptsLeft) => Create(
        StatusCodes.Status422UnprocessableEntity, ProblemTypes.ActivationCodeInvalid,
        "The activation code is not correct.",
        detail: attemptsLeft > 0
            ? $"{attemptsLeft} more wrong {(attemptsLeft == 1 ? "try" : "tries")} lock this code."
            : "This code is now locked: ask for a new one.");

    public static ProblemHttpResult CodeLocked() => Create(
        StatusCodes.Status429TooManyRequests, ProblemTypes.ActivationCodeLocked,
        "Too many wrong tries: this code is locked. Ask for a new one.");

    /// <summary>The address had its daily number of codes (per-address limit), whichever account asked.</summary>
    public static ProblemHttpResult TooManyCodesForAddress() => Create(
        StatusCodes.Status429TooManyRequests, ProblemTypes.TooManyRequests,
        "Too many codes were emailed to this address today. Try again later.");

    public static ProblemHttpResult NoPendingChange() => Create(
        StatusCodes.Status409Conflict, ProblemTypes.NoPendingChange,
        "No email change is awaiting confirmation.");

    /// <summary>Sets <c>Retry-After</c> (whole seconds, rounded up) on the response that <paramref name="problem"/> becomes.</summary>
    public static ProblemHttpResult WithRetryAfter(this ProblemHttpResult problem, HttpContext context, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.RetryAfter = RetryAfterSeconds(wait).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return problem;
    }

    /// <summary>The address had its daily number of wrong codes (per-address limit): every try waits, the right code too.</summary>
    public static ProblemHttpResult CodeLockedForAddress() => Create(
        StatusCodes.Status429TooManyRequests, ProblemTypes.ActivationCodeLocked,
        "Too many wrong codes were tried for this address today. Try again later.");

    public static ProblemHttpResult ResendTooSoon(TimeSpan retryAfter) => Create(
        StatusCodes.Status429TooManyRequests, ProblemTypes.ResendTooSoon,
        "A new code was issued recently. Try again later.",
        detail: $"Retry after {RetryAfterSeconds(retryAfter)} seconds.");

    /// <summary>The credentials were valid, but the account was deleted before the handler read it.</summary>
    public static ProblemHttpResult AccountGone() => Create(
        StatusCodes.Status401Unauthorized, ProblemTypes.Unauthorized, "The account no longer exists.");

    public static ProblemHttpResult NotFound() => Create(
        StatusCodes.Status404NotFound, ProblemTypes.NotFound, "The resource does not exist.");

    public static ProblemHttpResult Create(int status, string type, string title, string? detail = null) =>
        TypedResults.Problem(statusCode: status, type: type, title: title, detail: detail);

    /// <summary>Whole seconds to wait, rounded up, at least one.</summary>
    public static int RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
}
