using Microsoft.Extensions.Configuration;
using Npgsql;
using Registration.Hosting;

namespace Registration.Api.Tests.Unit;

public sealed class ConnectionStringsTests
{
    [Theory]
    [InlineData("Host=db;Database=registration", GssEncryptionMode.Disable)]
    [InlineData("Host=db;Database=registration;GSS Encryption Mode=Prefer", GssEncryptionMode.Prefer)]
    [InlineData("Host=db;Database=registration;GssEncryptionMode=Require", GssEncryptionMode.Require)]
    public void GetRequiredPostgres_TurnsGssEncryptionOff_UnlessTheConnectionStringSetsIt(string connectionString, GssEncryptionMode expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString })
            .Build();

        new NpgsqlConnectionStringBuilder(configuration.GetRequiredPostgres()).GssEncryptionMode.Should().Be(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void GetRequiredPostgres_NamesTheSettingToSet_WhenItIsMissing(string? connectionString)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString })
            .Build();

        var read = () => configuration.GetRequiredPostgres();

        read.Should().Throw<InvalidOperationException>().WithMessage("*ConnectionStrings__Postgres*");
    }
}
