using DotNet.Testcontainers.Builders;
using Npgsql;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Registration.Testing.Servers;

/// <summary>
/// The PostgreSQL server and RabbitMQ broker that integration tests run against, shared by
/// every test in the process. A test class isolates itself with a database and a virtual
/// host of its own (<see cref="CreateDatabaseAsync"/>, <see cref="CreateVirtualHostAsync"/>)
/// rather than servers of its own: creating a database takes milliseconds, starting a
/// server takes seconds.
/// </summary>
/// <remarks>
/// Where the servers come from, for each of the two independently:
/// <list type="bullet">
/// <item><c>TEST_POSTGRES</c>: a connection string whose role may create databases.</item>
/// <item><c>TEST_RABBITMQ</c>: an <c>amqp://user:password@host:port/</c> URI whose user has the
/// <c>administrator</c> tag; the management API is read at <c>TEST_RABBITMQ_MANAGEMENT</c>, or
/// else at <c>http://host:15672/</c>, with the same credentials.</item>
/// <item>Unset: a Testcontainers container, which needs Docker.</item>
/// </list>
/// <c>./scripts/test.sh</c> starts local servers and sets both variables.
/// </remarks>
public sealed class ExternalServices
{
    public const string PostgresVariable = "TEST_POSTGRES";
    public const string RabbitMqVariable = "TEST_RABBITMQ";
    public const string RabbitMqManagementVariable = "TEST_RABBITMQ_MANAGEMENT";

    private const string PostgresImage = "postgres:16-alpine";
    private const string RabbitMqImage = "rabbitmq:3.13-management-alpine";
    private const int RabbitMqManagementPort = 15672;
    private const string ContainerCredential = "registration_test";
    private const string DatabasePrefix = "test_";
    private const string VirtualHostPrefix = "test-";

    private const string HowToProvideServices =
        "Run the tests with ./scripts/test.sh (it installs and starts PostgreSQL and RabbitMQ on "
        + "Debian/Ubuntu and sets the variables), or set TEST_POSTGRES to a connection string of a "
        + "role with CREATEDB (e.g. \"Host=127.0.0.1;Port=5432;Username=registration_test;"
        + "Password=registration_test;Database=registration_test\") and TEST_RABBITMQ to an amqp:// URI "
        + "of a user with the administrator tag and the rabbitmq_management plugin enabled (e.g. "
        + "\"amqp://registration_test:registration_test@127.0.0.1:5672/\"), or start Docker so that "
        + "Testcontainers can run them.";

    // Lazy's default mode runs StartAsync once however many test classes ask at the same time.
    // A failed start stays cached on purpose: every test then fails at once with the same
    // message instead of each retrying a slow start.
    private static readonly Lazy<Task<ExternalServices>> Instance = new(StartAsync);

    private readonly RabbitMqManagementApi _management;

    private ExternalServices(string postgresConnectionString, Uri rabbitMqUri, RabbitMqManagementApi management)
    {
        PostgresConnectionString = postgresConnectionString;
        RabbitMqUri = rabbitMqUri;
        _management = management;
    }

    /// <summary>Connection string of a role that may create and drop the test databases.</summary>
    public string PostgresConnectionString { get; }

    /// <summary>The broker's default virtual host, with the credentials of a user with the administrator tag.</summary>
    public Uri RabbitMqUri { get; }

    /// <summary>The shared services, started (or found) on the first call.</summary>
    public static Task<ExternalServices> GetAsync() => Instance.Value;

    /// <summary>Creates an empty database <c>test_&lt;guid&gt;</c> and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(CancellationToken ct = default) => CreateDatabaseAsync(sqlAscii: false, ct);

    /// <summary>
    /// Creates an empty database <c>test_&lt;guid&gt;</c>, with <paramref name="sqlAscii"/> as a server without a
    /// locale makes it (encoding SQL_ASCII, from template0), and returns its connection string.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(bool sqlAscii, CancellationToken ct = default)
    {
        var database = DatabasePrefix + Guid.NewGuid().ToString("N");
        // UTF8 whatever the server's default: a cluster made on a machine without a locale is SQL_ASCII, and
        // template0 may be copied into any encoding.
        await ExecuteAdminCommandAsync(
            sqlAscii
                ? $"CREATE DATABASE \"{database}\" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
                : await DefaultIsUtf8Async(ct)
                    ? $"CREATE DATABASE \"{database}\""
                    : $"CREATE DATABASE \"{database}\" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0",
            ct);

        var builder = new NpgsqlConnectionStringBuilder(PostgresConnectionString)
        {
            Database = database,
            Pooling = true,
            // Fail a test within seconds when the server is gone rather than hang.
            Timeout = 10,
            CommandTimeout = 30,
            // Test classes run in parallel, each with pools of its own, against one server
            // with max_connections = 100 by default.
            MaxPoolSize = 20,
        };
        return builder.ConnectionString;
    }

    private async Task<bool> DefaultIsUtf8Async(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(PostgresConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'template1'", connection);
        return (string?)await command.ExecuteScalarAsync(ct) == "UTF8";
    }

    /// <summary>
    /// Drops a database made by <see cref="CreateDatabaseAsync"/>, disconnecting whoever still
    /// uses it. A database already gone is not an error.
    /// </summary>
    public async Task DropDatabaseAsync(string connectionString, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        // The name goes into SQL unquoted by parameters (DDL takes none), and a typo must not
        // drop a real database: accept only names this class generates.
        if (!IsGeneratedName(database, DatabasePrefix))
        {
            throw new ArgumentException(
                $"'{database}' is not a database made by {nameof(CreateDatabaseAsync)}.", nameof(connectionString));
        }

        // Idle pooled connections to it would be dead after the drop: close them first.
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(connection);
        }

        // WITH (FORCE) cannot end an autovacuum worker for a non-superuser (42501): it finishes within
        // moments (a churned database can keep one busy for seconds), so try for a while before giving up.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ExecuteAdminCommandAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", ct);
                return;
            }
            catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse && attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 500)), ct);
            }
        }
    }

    /// <summary>
    /// Creates a virtual host <c>test-&lt;guid&gt;</c> on which the user of <see cref="RabbitMqUri"/>
    /// may do anything.
    /// </summary>
    public async Task<RabbitMqVirtualHost> CreateVirtualHostAsync(CancellationToken ct = default)
    {
        var name = VirtualHostPrefix + Guid.NewGuid().ToString("N");
        var (username, password) = Credentials(RabbitMqUri);

        await _management.CreateVirtualHostAsync(name, ct);
        // The management API happens to grant its caller full rights on a virtual host it
        // creates; granting them explicitly does not rely on that.
        await _management.GrantFullPermissionsAsync(name, username, ct);

        return new RabbitMqVirtualHost(RabbitMqUri.Host, AmqpPort(RabbitMqUri), name, username, password);
    }

    /// <summary>Deletes a virtual host with its queues and exchanges; one already gone is not an error.</summary>
    public Task DeleteVirtualHostAsync(RabbitMqVirtualHost vhost, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(vhost);
        // Never the default "/" or anyone else's virtual host.
        if (!IsGeneratedName(vhost.VirtualHost, VirtualHostPrefix))
        {
            throw new ArgumentException(
                $"'{vhost.VirtualHost}' is not a virtual host made by {nameof(CreateVirtualHostAsync)}.", nameof(vhost));
        }

        return _management.DeleteVirtualHostAsync(vhost.VirtualHost, ct);
    }

    /// <summary>A queue's type and arguments, read from the management API (not through the code under test).</summary>
    public Task<QueueDescription?> DescribeQueueAsync(RabbitMqVirtualHost vhost, string queue, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(vhost);
        return _management.GetQueueAsync(vhost.VirtualHost, queue, ct);
    }

    private static async Task<ExternalServices> StartAsync()
    {
        var postgresVariable = Environment.GetEnvironmentVariable(PostgresVariable);
        var rabbitMqVariable = Environment.GetEnvironmentVariable(RabbitMqVariable);

        // Both containers start side by side: each takes several seconds.
        var postgres = string.IsNullOrWhiteSpace(postgresVariable)
            ? StartPostgresContainerAsync()
            : Task.FromResult(postgresVariable);
        var rabbitMq = string.IsNullOrWhiteSpace(rabbitMqVariable)
            ? StartRabbitMqContainerAsync()
            : Task.FromResult(RabbitMqFromEnvironment(rabbitMqVariable));
        await Task.WhenAll(postgres, rabbitMq);

        var (amqpUri, managementUri) = await rabbitMq;
        var (username, password) = Credentials(amqpUri);
        var services = new ExternalServices(
            await postgres, amqpUri, new RabbitMqManagementApi(managementUri, username, password));
        await services.CheckReachableAsync();
        return services;
    }

    // Containers are left to Testcontainers' resource reaper (Ryuk), which removes them when
    // the test process ends: no single test class owns them, so none could dispose them.
    private static async Task<string> StartPostgresContainerAsync()
    {
        try
        {
            var container = new PostgreSqlBuilder(PostgresImage)
                .WithDatabase(ContainerCredential)
                .WithUsername(ContainerCredential)
                .WithPassword(ContainerCredential)
                .Build();
            await container.StartAsync();
            return container.GetConnectionString();
        }
        catch (DockerUnavailableException ex)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL for the tests: {PostgresVariable} is not set and Docker is not available. {HowToProvideServices}", ex);
        }
    }

    private static async Task<(Uri Amqp, Uri Management)> StartRabbitMqContainerAsync()
    {
        try
        {
            var container = new RabbitMqBuilder(RabbitMqImage)
                .WithUsername(ContainerCredential)
                .WithPassword(ContainerCredential)
                .WithPortBinding(RabbitMqManagementPort, assignRandomHostPort: true)
                .Build();
            await container.StartAsync();
            var management = new UriBuilder(
                Uri.UriSchemeHttp, container.Hostname, container.GetMappedPublicPort(RabbitMqManagementPort)).Uri;
            return (new Uri(container.GetConnectionString()), management);
        }
        catch (DockerUnavailableException ex)
        {
            throw new InvalidOperationException(
                $"No RabbitMQ for the tests: {RabbitMqVariable} is not set and Docker is not available. {HowToProvideServices}", ex);
        }
    }

    private static (Uri Amqp, Uri Management) RabbitMqFromEnvironment(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var amqp) || amqp.Scheme is not ("amqp" or "amqps"))
        {
            throw new InvalidOperationException(
                // The value is not echoed: it may hold a password.
                $"{RabbitMqVariable} must be an amqp:// URI such as amqp://user:password@127.0.0.1:5672/.");
        }

        var managementVariable = Environment.GetEnvironmentVariable(RabbitMqManagementVariable);
        Uri? management;
        if (string.IsNullOrWhiteSpace(managementVariable))
        {
            management = new UriBuilder(Uri.UriSchemeHttp, amqp.Host, RabbitMqManagementPort).Uri;
        }
        else if (!Uri.TryCreate(managementVariable, UriKind.Absolute, out management)
                 || (management.Scheme != Uri.UriSchemeHttp && management.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException(
                $"{RabbitMqManagementVariable} must be an http(s):// URL such as http://127.0.0.1:15672/, not '{managementVariable}'.");
        }

        return (amqp, management);
    }

    // Checked once at start so that a wrong variable fails with a message naming it, rather
    // than as a connection error in the middle of the first test.
    private async Task CheckReachableAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await using var connection = new NpgsqlConnection(PostgresConnectionString);
            await connection.OpenAsync(timeout.Token);
        }
        catch (NpgsqlException ex)
        {
            throw new InvalidOperationException(
                $"PostgreSQL at {Describe(PostgresConnectionString)} did not accept a connection ({ex.Message}). {HowToProvideServices}", ex);
        }

        try
        {
            await _management.WhoAmIAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            throw new InvalidOperationException(
                $"The RabbitMQ management API at {_management.BaseUri} did not answer GET /api/whoami ({ex.Message}). "
                + $"Is the rabbitmq_management plugin enabled, and does the user of {RabbitMqVariable} have the administrator tag? "
                + HowToProvideServices,
                ex);
        }
    }

    private async Task ExecuteAdminCommandAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(PostgresConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static bool IsGeneratedName(string? name, string prefix) =>
        name is not null
        && name.StartsWith(prefix, StringComparison.Ordinal)
        && Guid.TryParseExact(name.AsSpan(prefix.Length), "N", out _);

    // AMQP URIs default to guest/guest when they carry no user (the AMQP URI spec).
    private static (string Username, string Password) Credentials(Uri amqp)
    {
        if (string.IsNullOrEmpty(amqp.UserInfo))
        {
            return ("guest", "guest");
        }

        var separator = amqp.UserInfo.IndexOf(':', StringComparison.Ordinal);
        return separator < 0
            ? (Uri.UnescapeDataString(amqp.UserInfo), string.Empty)
            : (Uri.UnescapeDataString(amqp.UserInfo[..separator]), Uri.UnescapeDataString(amqp.UserInfo[(separator + 1)..]));
    }

    private static int AmqpPort(Uri amqp) => amqp.IsDefaultPort || amqp.Port < 0
        ? (amqp.Scheme == "amqps" ? 5671 : 5672)
        : amqp.Port;

    // Host, port and database, never the password, for error messages.
    private static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database} as {builder.Username}";
    }
}
