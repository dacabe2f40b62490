using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Registration.Hosting;

public static class ConnectionStrings
{
    public const string Postgres = "Postgres";

    /// <summary>
    /// The PostgreSQL connection string; a missing one stops the service at start with the key to set. Unless
    /// it says otherwise, GSS (Kerberos) encryption is off: Npgsql's default, Prefer, loads libgssapi_krb5 on
    /// the first connection, and where the library is absent (the .NET images) the runtime prints "Cannot load
    /// library libgssapi_krb5.so.2" on stderr at every start, an error that is none.
    /// </summary>
    public static string GetRequiredPostgres(this IConfiguration configuration)
    {
        var value = configuration.GetConnectionString(Postgres);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{Postgres} is not set (environment variable ConnectionStrings__{Postgres}).");
        }

        // The keys as written (Npgsql's own builder reports every keyword it knows as present).
        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = value }.Keys.Cast<string>()
            .Select(key => key.Replace(" ", string.Empty, StringComparison.Ordinal));
        if (written.Any(key => key.Equals(nameof(NpgsqlConnectionStringBuilder.GssEncryptionMode), StringComparison.OrdinalIgnoreCase)))
        {
            return value;
        }

        return new NpgsqlConnectionStringBuilder(value) { GssEncryptionMode = GssEncryptionMode.Disable }.ConnectionString;
    }
}
