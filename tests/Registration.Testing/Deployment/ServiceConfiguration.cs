using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Registration.Testing.Deployment;

/// <summary>
/// The configuration keys a service reads, found in its assembly and the shared ones it references
/// (<c>Registration.Hosting</c>): the options classes (a type with
/// a <c>SectionName</c> constant; every settable property is a key), its appsettings.json, the keys
/// its code names as string literals (<c>"Section:Key"</c>, <c>GetConnectionString("Postgres")</c>),
/// and the host's own (<c>ASPNETCORE_*</c>, <c>DOTNET_*</c>, <c>Logging:LogLevel</c>, <c>Logging:Console</c>).
/// </summary>
public sealed class ServiceConfiguration
{
    private const string SectionNameField = "SectionName";
    private const string SharedAssemblyPrefix = "Registration.";

    private static readonly Lazy<ServiceConfiguration> ApiConfiguration = new(() => Of(Hosts.ServiceProcess.Api, "services/Registration.Api"));
    private static readonly Lazy<ServiceConfiguration> WorkerConfiguration = new(() => Of(Hosts.ServiceProcess.Worker, "services/Notification.Worker"));

    private readonly Assembly _assembly;
    private readonly HashSet<string> _literals;
    private readonly HashSet<string> _appSettingsKeys;

    private ServiceConfiguration(Assembly assembly, IReadOnlyList<OptionsSection> sections, HashSet<string> literals, HashSet<string> appSettingsKeys)
    {
        _assembly = assembly;
        Sections = sections;
        _literals = literals;
        _appSettingsKeys = appSettingsKeys;
    }

    /// <summary>The keys Registration.Api reads (read once per test process).</summary>
    public static ServiceConfiguration Api => ApiConfiguration.Value;

    /// <summary>The keys Notification.Worker reads (read once per test process).</summary>
    public static ServiceConfiguration Worker => WorkerConfiguration.Value;

    public IReadOnlyList<OptionsSection> Sections { get; }

    /// <summary>Reads the assembly of a referenced service project; its appsettings.json is read from <c>projectDirectory</c>.</summary>
    public static ServiceConfiguration Of(string assemblyName, string projectDirectory)
    {
        var assembly = Assembly.Load(assemblyName);
        Assembly[] assemblies =
        [
            assembly,
            .. assembly.GetReferencedAssemblies()
                .Where(reference => reference.Name?.StartsWith(SharedAssemblyPrefix, StringComparison.Ordinal) == true)
                .Select(Assembly.Load),
        ];
        var sections = assemblies.SelectMany(AssemblyTypes.Of)
            .Select(type => (Type: type, Field: type.GetField(SectionNameField, BindingFlags.Public | BindingFlags.Static)))
            .Where(t => t.Field is { IsLiteral: true } && t.Field.FieldType == typeof(string) && t.Type is { IsClass: true, IsAbstract: false })
            .Select(t => new OptionsSection((string)t.Field!.GetRawConstantValue()!, t.Type))
            .ToArray();
        var appSettings = Path.Combine(Repository.PathOf(projectDirectory), "appsettings.json");
        var appSettingsKeys = File.Exists(appSettings)
            ? JsonKeys(JsonDocument.Parse(File.ReadAllText(appSettings)).RootElement, prefix: null).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var literals = assemblies.SelectMany(StringLiterals).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new ServiceConfiguration(assembly, sections, literals, appSettingsKeys);
    }

    /// <summary>Whether the service's code (or a shared assembly it uses) spells out <paramref name="text"/> as a string literal.</summary>
    public bool CodeNames(string text) => _literals.Contains(text);

    /// <summary>Environment variable name to configuration key: <c>RabbitMq__Host</c> is <c>RabbitMq:Host</c>.</summary>
    public static string KeyOf(string environmentVariable) => environmentVariable.Replace("__", ":", StringComparison.Ordinal);

    /// <summary>Why the service reads this key, or null when nothing in it does.</summary>
    public string? WhyItReads(string key)
    {
        if (Sections.FirstOrDefault(section => section.Reads(key)) is { } section)
        {
            return $"{section.Type.Name}.{key[(section.Name.Length + 1)..]}";
        }

        if (_appSettingsKeys.Contains(key))
        {
            return "appsettings.json";
        }

        // A whole key spelled out in the code, e.g. configuration["Section:Key"].
        if (key.Contains(':', StringComparison.Ordinal) && _literals.Contains(key))
        {
            return "a string literal in the code";
        }

        const string connectionStrings = "ConnectionStrings:";
        if (key.StartsWith(connectionStrings, StringComparison.OrdinalIgnoreCase) && _literals.Contains(key[connectionStrings.Length..]))
        {
            return "GetConnectionString";
        }

        return HostReads(key);
    }

    /// <summary>
    /// Binds the environment onto every options class and validates it as the service does at start
    /// (data annotations, then the assembly's own <see cref="IValidateOptions{TOptions}"/> with no dependencies).
    /// </summary>
    public IReadOnlyList<string> BindAndValidate(IReadOnlyDictionary<string, string> environment)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(KeyOf(e.Key), e.Value)))
            .Build();
        var problems = new List<string>();
        foreach (var section in Sections)
        {
            var options = Activator.CreateInstance(section.Type)!;
            try
            {
                configuration.GetSection(section.Name).Bind(options);
            }
            catch (InvalidOperationException exception)
            {
                problems.Add($"{section.Name}: {exception.Message}");
                continue;
            }

            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
            {
                problems.AddRange(results.Select(result => $"{section.Name}: {result.ErrorMessage}"));
            }

            var validatorInterface = typeof(IValidateOptions<>).MakeGenericType(section.Type);
            foreach (var validatorType in AssemblyTypes.Of(_assembly).Where(t => t is { IsClass: true, IsAbstract: false } && validatorInterface.IsAssignableFrom(t)))
            {
                if (validatorType.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, Type.EmptyTypes) is null)
                {
                    continue;
                }

                var validator = Activator.CreateInstance(validatorType, nonPublic: true);
                var result = (ValidateOptionsResult)validatorInterface.GetMethod(nameof(IValidateOptions<object>.Validate))!.Invoke(validator, [null, options])!;
                if (result.Failed)
                {
                    problems.AddRange(result.Failures.Select(failure => $"{section.Name}: {failure}"));
                }
            }
        }

        return problems;
    }

    private string? HostReads(string key)
    {
        if (key.StartsWith("DOTNET_", StringComparison.Ordinal))
        {
            return "the .NET host";
        }

        if (key.StartsWith("ASPNETCORE_", StringComparison.Ordinal) && BuildsAWebHostFromItsConfiguration())
        {
            return "ASP.NET Core";
        }

        if (key.StartsWith("OTEL_", StringComparison.Ordinal) && References("OpenTelemetry"))
        {
            return "the OpenTelemetry SDK";
        }

        string[] loggingSections = ["Logging:LogLevel:", "Logging:Console:"];
        return loggingSections.Any(prefix => key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) ? "Microsoft.Extensions.Logging" : null;
    }

    /// <summary>
    /// ASP.NET Core reads <c>ASPNETCORE_*</c> in a web host built with its defaults (<c>WebApplication.CreateBuilder</c>,
    /// <c>CreateSlimBuilder</c>, <c>ConfigureWebHostDefaults</c>); one built empty (the worker's health and metrics
    /// endpoints) reads nothing from the environment. Found in the assembly's calls.
    /// </summary>
    private bool BuildsAWebHostFromItsConfiguration()
    {
        string[] defaultBuilders = ["CreateBuilder", "CreateSlimBuilder", "ConfigureWebHostDefaults"];
        using var stream = File.OpenRead(_assembly.Location);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return metadata.MemberReferences
            .Select(metadata.GetMemberReference)
            .Any(member => defaultBuilders.Contains(metadata.GetString(member.Name), StringComparer.Ordinal)
                && member.Parent.Kind == HandleKind.TypeReference
                && metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)member.Parent).Name) is "WebApplication" or "GenericHostBuilderExtensions");
    }

    private bool References(string assemblyPrefix) =>
        _assembly.GetReferencedAssemblies().Any(reference => reference.Name?.StartsWith(assemblyPrefix, StringComparison.Ordinal) == true);

    /// <summary>Every string literal of the assembly (the #US metadata heap).</summary>
    private static HashSet<string> StringLiterals(Assembly assembly)
    {
        var literals = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using var stream = File.OpenRead(assembly.Location);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        if (metadata.GetHeapSize(HeapIndex.UserString) <= 1)
        {
            return literals;
        }

        for (var handle = MetadataTokens.UserStringHandle(1); !handle.IsNil; handle = metadata.GetNextHandle(handle))
        {
            literals.Add(metadata.GetUserString(handle));
        }

        return literals;
    }

    private static IEnumerable<string> JsonKeys(JsonElement element, string? prefix) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => JsonKeys(p.Value, prefix is null ? p.Name : $"{prefix}:{p.Name}")),
        JsonValueKind.Array => element.EnumerateArray().SelectMany((item, index) => JsonKeys(item, $"{prefix}:{index}")),
        _ => prefix is null ? [] : [prefix],
    };
}

/// <summary>An options class bound to a configuration section.</summary>
public sealed record OptionsSection(string Name, Type Type)
{
    /// <summary>The keys it binds; <c>*</c> stands for a collection index.</summary>
    public IReadOnlyList<string> Keys { get; } = KeysOf(Type, Name, depth: 0).ToArray();

    public bool Reads(string key)
    {
        var parts = key.Split(':');
        return Keys.Any(pattern =>
        {
            var expected = pattern.Split(':');
            return expected.Length == parts.Length && expected.Zip(parts).All(pair =>
                pair.First == "*" ? pair.Second.All(char.IsAsciiDigit) && pair.Second.Length > 0
                                  : pair.First.Equals(pair.Second, StringComparison.OrdinalIgnoreCase));
        });
    }

    private static IEnumerable<string> KeysOf(Type type, string prefix, int depth)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var key = $"{prefix}:{property.Name}";
            if (IsScalar(propertyType))
            {
                if (property.CanWrite)
                {
                    yield return key;
                }
            }
            else if (ElementType(propertyType) is { } element)
            {
                var keys = IsScalar(element) ? [$"{key}:*"] : KeysOf(element, $"{key}:*", depth + 1);
                foreach (var elementKey in keys)
                {
                    yield return elementKey;
                }
            }
            else if (propertyType.IsClass && depth < 4)
            {
                foreach (var nested in KeysOf(propertyType, key, depth + 1))
                {
                    yield return nested;
                }
            }
        }
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal)
        || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
}
