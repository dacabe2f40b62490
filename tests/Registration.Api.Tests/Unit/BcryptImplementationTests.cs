using System.Text;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Registration.Api.Infrastructure;
using Registration.Api.Users;
using Registration.Testing.PropertyTests;

namespace Registration.Api.Tests.Unit;

/// <summary>
/// The system's bcrypt (libxcrypt, by P/Invoke) and BCrypt.Net-Next are interchangeable: each verifies the
/// other's hashes at every cost and revision, for any password the service accepts, and both answer a
/// corrupt stored hash with false, never an exception. These run on the machine's own libxcrypt (Debian and
/// Ubuntu ship it as the required package libcrypt1).
/// </summary>
public sealed class BcryptImplementationTests(ITestOutputHelper output)
{
    private const string Password = "correct horse ✓ battery";

    private static readonly ManagedBcrypt Managed = ManagedBcrypt.Instance;

    private static NativeBcrypt Native => NativeBcrypt.TryCreate(out var native, out var problem)
        ? native
        : throw new InvalidOperationException($"The system's bcrypt is not usable here: {problem}");

    [Fact]
    public void NativeBcrypt_PassesItsSelfTest_OnThisSystem()
    {
        NativeBcrypt.TryCreate(out var native, out var problem).Should().BeTrue(problem);
        native!.Name.Should().Be("native");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(8)]
    [InlineData(10)]
    [InlineData(12)]
    [InlineData(14)]
    public void HashesOfEitherImplementation_VerifyInTheOther_AtEveryCost(int cost)
    {
        var native = Native.Hash(Password, cost);
        var managed = Managed.Hash(Password, cost);

        native.Should().StartWith($"$2b${cost:00}$").And.HaveLength(60);
        managed.Should().StartWith($"$2a${cost:00}$").And.HaveLength(60);
        Managed.Verify(Password, native).Should().BeTrue("BCrypt.Net-Next verifies the native hash");
        Native.Verify(Password, managed).Should().BeTrue("the native bcrypt verifies BCrypt.Net-Next's hash");
        Managed.Verify(Password + "!", native).Should().BeFalse();
        Native.Verify(Password + "!", managed).Should().BeFalse();
    }

    [Theory]
    [InlineData('a')]
    [InlineData('b')]
    [InlineData('y')]
    public void EveryRevision_VerifiesInBothImplementations(char revision)
    {
        var managed = BCrypt.Net.BCrypt.HashPassword(Password, BCrypt.Net.BCrypt.GenerateSalt(4, revision));
        var native = $"$2{revision}{Native.Hash(Password, 4)[3..]}";

        managed.Should().StartWith($"$2{revision}$");
        Native.Verify(Password, managed).Should().BeTrue($"a $2{revision}$ hash of BCrypt.Net-Next verifies natively");
        Managed.Verify(Password, native).Should().BeTrue($"a native hash read as $2{revision}$ verifies in BCrypt.Net-Next");
        Native.Verify(Password, native).Should().BeTrue();
    }

    [Theory]
    [InlineData("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")]
    [InlineData("U*U*", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK")]
    [InlineData("U*U*U", "$2y$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a")]
    [InlineData("", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy")]
    public void TheOpenwallTestVectors_VerifyInBothImplementations(string password, string hash)
    {
        Native.Verify(password, hash).Should().BeTrue();
        Managed.Verify(password, hash).Should().BeTrue();
        Native.Verify(password + "x", hash).Should().BeFalse();
        Managed.Verify(password + "x", hash).Should().BeFalse();
    }

    [Fact]
    public void AtTheLimitOf72Bytes_BothImplementationsAgree_AndPastItTheRulesRefuse()
    {
        // 70 ASCII bytes and a 2-byte character: exactly bcrypt's 72.
        var atTheLimit = new string('a', 70) + "é";
        Encoding.UTF8.GetByteCount(atTheLimit).Should().Be(72);
        PasswordRules.Validate(atTheLimit).Should().BeNull();
        var oneMore = atTheLimit + "b";

        Managed.Verify(atTheLimit, Native.Hash(atTheLimit, 4)).Should().BeTrue();
        Native.Verify(atTheLimit, Managed.Hash(atTheLimit, 4)).Should().BeTrue();
        Native.Verify(new string('a', 71) + "é", Native.Hash(atTheLimit, 4)).Should().BeFalse();
        // bcrypt ignores what comes after byte 72, in both: which is why such a password never gets here.
        Native.Verify(oneMore, Native.Hash(atTheLimit, 4)).Should().Be(Managed.Verify(oneMore, Native.Hash(atTheLimit, 4))).And.BeTrue();
        PasswordRules.Validate(oneMore).Should().Contain("72 bytes", "the rule and its refusal are unchanged");
    }

    [Fact]
    public void APasswordWithANulCharacter_IsNotCutShortThere()
    {
        // A C string ends at U+0000: handed to libxcrypt as is, "correct\0horse" would be "correct".
        const string withNul = "correct\0horse battery";

        var hash = Native.Hash(withNul, 4);

        Native.Verify(withNul, hash).Should().BeTrue();
        Managed.Verify(withNul, hash).Should().BeTrue();
        Native.Verify("correct", hash).Should().BeFalse();
        Native.Verify("correct", Managed.Hash(withNul, 4)).Should().BeFalse();
    }

    [Fact]
    [Trait("Category", "Property")]
    public async Task GeneratedPasswords_HashedByEitherImplementation_VerifyInTheOther()
    {
        await PropertyCheck.RunAsync(Passwords, password =>
        {
            var native = Native.Hash(password, 4);
            var managed = Managed.Hash(password, 4);
            Managed.Verify(password, native).Should().BeTrue("BCrypt.Net-Next verifies the native hash");
            Native.Verify(password, managed).Should().BeTrue("the native bcrypt verifies BCrypt.Net-Next's");
            var wrong = "!" + password;
            Native.Verify(wrong, managed).Should().Be(Managed.Verify(wrong, managed), "both read a password the same way");
            if (Encoding.UTF8.GetByteCount(wrong) <= 72)
            {
                Native.Verify(wrong, managed).Should().BeFalse();
            }

            return Task.CompletedTask;
        }, iterations: 60, fixedSeed: "0000002qBaAhBid1", output.WriteLine, Describe);
    }

    [Fact]
    [Trait("Category", "Property")]
    public async Task CorruptStoredHashes_AreFalseInBothImplementations_NeverAnException()
    {
        var stored = Native.Hash(Password, 4);
        await PropertyCheck.RunAsync(Corruptions(stored), corrupt =>
        {
            var native = Native.Verify(Password, corrupt);
            var managed = Managed.Verify(Password, corrupt);

            native.Should().Be(managed, "both implementations read a stored hash the same way");
            if (native)
            {
                corrupt[4..].Should().Be(stored[4..], "only the revision letter may change and still match");
            }

            return Task.CompletedTask;
        }, iterations: 400, fixedSeed: "0000002qBaDiBid1", output.WriteLine, Describe);
    }

    [Fact]
    public void Selection_FallsBackToBCryptNetNext_WhereTheSystemHasNoLibxcrypt_UnlessNativeIsRequired()
    {
        const string missing = "libcrypt-that-does-not-exist.so.1";

        BcryptSelection.Select(BcryptImplementation.Auto, NullLogger.Instance, missing).Should().BeSameAs(ManagedBcrypt.Instance);
        BcryptSelection.Select(BcryptImplementation.Managed, NullLogger.Instance).Should().BeSameAs(ManagedBcrypt.Instance);
        BcryptSelection.Select(BcryptImplementation.Auto, NullLogger.Instance).Name.Should().Be("native", "this system has libxcrypt");
        FluentActions.Invoking(() => BcryptSelection.Select(BcryptImplementation.Native, NullLogger.Instance, missing))
            .Should().Throw<InvalidOperationException>().WithMessage("*libcrypt1*", "the refusal to start says what to install");
    }

    /// <summary>Passwords of ASCII, Latin-1, Cyrillic and CJK letters, emoji, combining marks, U+0000 and zero-width spaces, up to ~90 bytes.</summary>
    private static readonly Gen<string> Passwords = Gen.OneOf(
            Gen.Char[' ', '~'].Select(c => c.ToString()),
            Gen.Char['\u00a0', '\u00ff'].Select(c => c.ToString()),
            Gen.Char['\u0400', '\u04ff'].Select(c => c.ToString()),
            Gen.Char['\u4e00', '\u4fff'].Select(c => c.ToString()),
            Gen.OneOf("😀", "𝄞", "e\u0301", "\0", "\u200b"))
        .Array[1, 30]
        .Select(string.Concat);

    /// <summary>One change to a stored hash: a character replaced, inserted or removed, the string cut or extended, or replaced outright.</summary>
    private static Gen<string> Corruptions(string stored)
    {
        var character = Gen.OneOf(Gen.Char['.', 'z'], Gen.OneOf('$', '\0', ' ', 'é', '\n', '2', '3', '9', 'x', '\uffff'));
        // Positions 4 and 5 are the cost: a cost changed to 31 would be a valid hash that takes days to check.
        var position = Gen.Int[0, stored.Length - 1].Where(index => index is not (4 or 5));
        var pastTheCost = Gen.Int[7, stored.Length - 1];
        return Gen.OneOf(
            Gen.Select(position, character, (index, c) => stored[..index] + c + stored[(index + 1)..]),
            Gen.Select(pastTheCost, character, (index, c) => stored[..index] + c + stored[index..]),
            pastTheCost.Select(index => stored.Remove(index, 1)),
            Gen.Int[0, stored.Length - 1].Select(length => stored[..length]),
            character.Select(c => stored + c),
            Gen.OneOf('a', 'b', 'x', 'y', 'z', '0', '$').Select(revision => $"$2{revision}{stored[3..]}"),
            Gen.OneOf(string.Empty, "$", "$2b$", "$2b$04$", "*0", "$6$salt$hash", "ab", "$2b$99$" + stored[7..], "$2b$0a$" + stored[7..]),
            Gen.String);
    }

    private static string Describe(string value) =>
        $"\"{string.Concat(value.Select(c => c is < ' ' or > '~' ? $"\\u{(int)c:x4}" : c.ToString()))}\"";
}
