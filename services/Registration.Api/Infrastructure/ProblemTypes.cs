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
    public const string Unavailable = "/problems/unavailable";
    public const string NoPendingChange = "/problems/no-pending-change";

    /// <summary>The type for a status the framework produced on its own (404 route, 405, 415, ...).</summary>
    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => Unauthorized,
        StatusCodes.Status403Forbidden => Forbidden,
        StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed => NotFound,
        StatusCodes.Status429TooManyRequests => TooManyRequests,
        >= 500 => Unavailable,
        _ => ValidationFailed,
    };
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
        StatusCodes.Status415UnsupportedMediaType, ProblemTypes.ValidationFailed,
        "The request body must be application/json.");

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
