using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Registration.Api.Infrastructure;

/// <summary>
/// bcrypt from the system's libxcrypt (<c>crypt_rn</c> and <c>crypt_gensalt_rn</c> in <c>libcrypt.so.1</c>, the
/// library behind <c>crypt(3)</c> on Debian, Ubuntu and Alpine-class images): the same algorithm as
/// BCrypt.Net-Next in optimised C, noticeably faster per hash. Used only after <see cref="TryCreate"/>'s
/// self-test reproduced known hashes exactly.
/// <para>
/// Thread safety: every call gets its own zeroed <c>struct crypt_data</c> (32 KiB) and clears it, and the
/// password bytes, afterwards; nothing is shared between threads. Two inputs go to BCrypt.Net-Next instead,
/// so that both implementations always agree: a password containing U+0000 (C strings end there, which
/// would make "a\0b" equal "a") or longer than bcrypt's 72 bytes (the service refuses those before they get
/// here; libxcrypt would refuse past 512 where BCrypt.Net-Next truncates), and anything stored that is not a well-formed <c>$2a$</c>/<c>$2b$</c>/<c>$2y$</c>
/// hash (libxcrypt would read "$6$..." or a two-letter DES salt as a valid setting of another algorithm).
/// </para>
/// </summary>
public sealed partial class NativeBcrypt : IBcrypt
{
    public const string ImplementationName = "native";
    public const string LibraryName = "libcrypt.so.1";

    /// <summary><c>sizeof(struct crypt_data)</c> in libxcrypt's crypt.h.</summary>
    private const int CryptDataSize = 32768;

    /// <summary><c>CRYPT_OUTPUT_SIZE</c>: <c>crypt_rn</c> writes its result at the start of the data area, within this.</summary>
    private const int CryptOutputSize = 384;

    /// <summary><c>CRYPT_GENSALT_OUTPUT_SIZE</c>.</summary>
    private const int GensaltOutputSize = 192;

    private const int SaltBytes = 16;

    /// <summary>bcrypt reads this many bytes of a password; the service refuses longer ones.</summary>
    private const int MaxPasswordBytes = 72;

    /// <summary>What new hashes are: <c>$2b$</c>, the current revision (BCrypt.Net-Next writes <c>$2a$</c>; both verify everywhere).</summary>
    private static readonly byte[] Prefix = "$2b$\0"u8.ToArray();

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Known answers: the Openwall crypt_blowfish test vectors for each revision, one non-ASCII password
    /// (UTF-8 with high bits: the bytes where bcrypt implementations have historically disagreed), checked
    /// against BCrypt.Net-Next too, and a setting from <c>crypt_gensalt_rn</c> with fixed salt bytes.
    /// </summary>
    private static readonly (string Password, string Hash)[] KnownVectors =
    [
        ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
        ("U*U*", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"),
        ("U*U*U", "$2y$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"),
        ("pässwörd €😀", "$2b$04$abcdefghijklmnopqrstuuqVj55e6.LS4.ZX/zsPY3vFwMoG16F5."),
    ];

    private const string GensaltVectorSetting = "$2b$05$..CA.uOD/eaGAOmJB.yMBu";

    private NativeBcrypt()
    {
    }

    public string Name => ImplementationName;

    /// <summary>The library loads, both functions exist, and every known vector comes out exactly; else why not.</summary>
    public static bool TryCreate([NotNullWhen(true)] out NativeBcrypt? bcrypt, [NotNullWhen(false)] out string? problem) =>
        TryCreate(LibraryName, out bcrypt, out problem);

    /// <param name="libraryName">Looked for first; a test names one that does not exist to see the fallback.</param>
    internal static bool TryCreate(string libraryName, [NotNullWhen(true)] out NativeBcrypt? bcrypt, [NotNullWhen(false)] out string? problem)
    {
        bcrypt = null;
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(libraryName, typeof(NativeBcrypt).Assembly, null, out _))
        {
            problem = $"{libraryName} not found";
            return false;
        }

        try
        {
            problem = SelfTest();
        }
        catch (Exception exception) when (exception is EntryPointNotFoundException or DllNotFoundException or BadImageFormatException)
        {
            // e.g. glibc's old libcrypt.so.1, which has crypt_r but neither crypt_rn nor bcrypt.
            problem = $"{LibraryName} is not libxcrypt ({exception.GetType().Name}: {exception.Message})";
        }

        if (problem is not null)
        {
            return false;
        }

        bcrypt = new NativeBcrypt();
        return true;
    }

    public string Hash(string password, int workFactor)
    {
        if (!IsNativeFriendly(password))
        {
            return ManagedBcrypt.Instance.Hash(password, workFactor);
        }

        Span<byte> salt = stackalloc byte[SaltBytes];
        RandomNumberGenerator.Fill(salt);
        var setting = GenerateSetting(workFactor, salt)
            ?? throw new InvalidOperationException($"crypt_gensalt_rn refused work factor {workFactor}.");
        return Crypt(password, setting) ?? throw new InvalidOperationException("crypt_rn failed to hash a password.");
    }

    public bool Verify(string password, string hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (!IsNativeFriendly(password) || !WellFormedHash().IsMatch(hash))
        {
            return ManagedBcrypt.Instance.Verify(password, hash);
        }

        return Crypt(password, hash) is { } computed && FixedTimeEquals(computed, hash);
    }

    /// <summary>Equal strings, in time that depends on their length only (bcrypt hashes are all 60 characters).</summary>
    internal static bool FixedTimeEquals(string computed, string stored) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(stored));

    /// <summary>
    /// No U+0000, valid UTF-16 (no lone surrogate) and at most 72 bytes: what a C string of UTF-8 bytes carries
    /// faithfully and both implementations read the same way.
    /// </summary>
    internal static bool IsNativeFriendly(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (password.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            return StrictUtf8.GetByteCount(password) <= MaxPasswordBytes;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static string? SelfTest()
    {
        foreach (var (password, hash) in KnownVectors)
        {
            if (Crypt(password, hash) != hash)
            {
                return $"self-test: {hash[..7]} vector not reproduced";
            }

            if (Crypt(password + "!", hash) == hash)
            {
                return $"self-test: a wrong password matched the {hash[..7]} vector";
            }
        }

        Span<byte> fixedSalt = stackalloc byte[SaltBytes];
        for (var i = 0; i < SaltBytes; i++)
        {
            fixedSalt[i] = (byte)i;
        }

        return GenerateSetting(5, fixedSalt) == GensaltVectorSetting ? null : "self-test: crypt_gensalt_rn gave an unexpected setting";
    }

    /// <summary><c>crypt_rn</c> with a fresh data area; null when libxcrypt refuses the setting.</summary>
    private static string? Crypt(string password, string setting)
    {
        var phrase = new byte[StrictUtf8.GetByteCount(password) + 1];
        StrictUtf8.GetBytes(password, phrase);
        var settingBytes = new byte[Encoding.ASCII.GetByteCount(setting) + 1];
        Encoding.ASCII.GetBytes(setting, settingBytes);
        // Allocated zeroed, as crypt_rn wants a data area it has not seen; never shared, never pooled.
        var data = new byte[CryptDataSize];
        try
        {
            var result = CryptRn(ref phrase[0], ref settingBytes[0], ref data[0], data.Length);
            return result == 0 ? null : ReadCString(data.AsSpan(0, CryptOutputSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(phrase);
            CryptographicOperations.ZeroMemory(data);
        }
    }

    private static string? GenerateSetting(int workFactor, ReadOnlySpan<byte> salt)
    {
        var randomBytes = salt.ToArray();
        var output = new byte[GensaltOutputSize];
        var result = CryptGensaltRn(ref Prefix[0], new CULong((uint)workFactor), ref randomBytes[0], randomBytes.Length, ref output[0], output.Length);
        CryptographicOperations.ZeroMemory(randomBytes);
        return result == 0 ? null : ReadCString(output);
    }

    private static string? ReadCString(ReadOnlySpan<byte> buffer)
    {
        var end = buffer.IndexOf((byte)0);
        return end < 0 ? null : Encoding.ASCII.GetString(buffer[..end]);
    }

    /// <summary><c>$2a$</c>, <c>$2b$</c> or <c>$2y$</c>, a two-digit cost bcrypt accepts, 22 salt and 31 hash characters.</summary>
    [GeneratedRegex(@"\A\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}\z", RegexOptions.CultureInvariant)]
    private static partial Regex WellFormedHash();

    // char *crypt_rn(const char *phrase, const char *setting, void *data, int size);
    [LibraryImport(LibraryName, EntryPoint = "crypt_rn")]
    private static partial nint CryptRn(ref byte phrase, ref byte setting, ref byte data, int size);

    // char *crypt_gensalt_rn(const char *prefix, unsigned long count, const char *rbytes, int nrbytes, char *output, int output_size);
    [LibraryImport(LibraryName, EntryPoint = "crypt_gensalt_rn")]
    private static partial nint CryptGensaltRn(ref byte prefix, CULong count, ref byte randomBytes, int randomByteCount, ref byte output, int outputSize);
}
