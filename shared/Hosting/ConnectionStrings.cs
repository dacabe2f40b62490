using Microsoft.Extensions.Configuration;

namespace Registration.Hosting;

public static class ConnectionStrings
{
    public const string Postgres = "Postgres";

    /// <summary>The PostgreSQL connection string; a missing one stops the service at start with the key to set.</summary>
    public static string GetRequiredPostgres(this IConfiguration configuration) =>
        configuration.GetConnectionString(Postgres) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new InvalidOperationException(
                $"ConnectionStrings:{Postgres} is not set (environment variable ConnectionStrings__{Postgres}).");
}
