namespace Registration.Api.Infrastructure;

/// <summary>
/// One bcrypt implementation, synchronous: <see cref="PasswordHasher"/> gives it a dedicated thread and a slot
/// of its bulkhead. Hashes from any implementation verify in any other (standard <c>$2a$</c>/<c>$2b$</c>/<c>$2y$</c>
/// strings); bcrypt reads at most 72 bytes of a password, and longer ones never get here (<c>PasswordRules</c>).
/// </summary>
public interface IBcrypt
{
    /// <summary><c>native</c> or <c>managed</c>: the label of the logs and metrics that say which one runs.</summary>
    string Name { get; }

    string Hash(string password, int workFactor);

    /// <summary>
    /// True only when <paramref name="hash"/> is a bcrypt hash of <paramref name="password"/>, compared in
    /// constant time. A corrupt or foreign stored hash is false, never an exception.
    /// </summary>
    bool Verify(string password, string hash);
}

/// <summary><c>Security:BcryptImplementation</c>.</summary>
public enum BcryptImplementation
{
    /// <summary>The system's libxcrypt when it is present and passes its self-test, else BCrypt.Net-Next.</summary>
    Auto,

    /// <summary>libxcrypt or nothing: the API refuses to start without it (an image that must have the fast path).</summary>
    Native,

    /// <summary>BCrypt.Net-Next, whatever the system has.</summary>
    Managed,
}

/// <summary>BCrypt.Net-Next: portable C#, the fallback where the system has no usable libxcrypt.</summary>
public sealed class ManagedBcrypt : IBcrypt
{
    public const string ImplementationName = "managed";

    public static ManagedBcrypt Instance { get; } = new();

    public string Name => ImplementationName;

    public string Hash(string password, int workFactor) => BCrypt.Net.BCrypt.HashPassword(password, workFactor);

    public bool Verify(string password, string hash)
    {
        try
        {
            // BCrypt.Net-Next compares the computed and stored strings in constant time.
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (Exception exception) when (exception is BCrypt.Net.SaltParseException or BCrypt.Net.HashInformationException
                                              or ArgumentException or FormatException or IndexOutOfRangeException)
        {
            // A corrupt stored hash must not turn into a 500: it simply never matches.
            return false;
        }
    }
}

/// <summary>Picks the implementation once, at start-up, and says which in the log.</summary>
public static partial class BcryptSelection
{
    public static IBcrypt Select(BcryptImplementation wanted, ILogger logger) => Select(wanted, logger, NativeBcrypt.LibraryName);

    internal static IBcrypt Select(BcryptImplementation wanted, ILogger logger, string libraryName)
    {
        if (wanted == BcryptImplementation.Managed)
        {
            LogManagedRequested(logger);
            return ManagedBcrypt.Instance;
        }

        if (NativeBcrypt.TryCreate(libraryName, out var native, out var problem))
        {
            LogNativeSelected(logger, libraryName);
            return native;
        }

        if (wanted == BcryptImplementation.Native)
        {
            throw new InvalidOperationException(
                $"Security:BcryptImplementation is Native, but the system's bcrypt cannot be used: {problem}. "
                + "Install libxcrypt (Debian/Ubuntu: libcrypt1), or set Security__BcryptImplementation=Auto to fall back to BCrypt.Net-Next.");
        }

        LogFallback(logger, problem);
        return ManagedBcrypt.Instance;
    }

    [LoggerMessage(EventId = 1420, EventName = "BcryptNative", Level = LogLevel.Information, Message = "Password hashing: native bcrypt, libxcrypt ({Library}), self-test against known vectors passed")]
    private static partial void LogNativeSelected(ILogger logger, string library);

    [LoggerMessage(EventId = 1422, EventName = "BcryptManaged", Level = LogLevel.Information, Message = "Password hashing: managed bcrypt (BCrypt.Net-Next), as Security:BcryptImplementation asks")]
    private static partial void LogManagedRequested(ILogger logger);

    [LoggerMessage(EventId = 1421, EventName = "BcryptFallback", Level = LogLevel.Warning, Message = "Password hashing: managed bcrypt (BCrypt.Net-Next), slower than the system's: {Problem}")]
    private static partial void LogFallback(ILogger logger, string problem);
}
