using System.Reflection;

namespace Registration.Testing.Deployment;

public static class AssemblyTypes
{
    /// <summary>The assembly's types, less any whose dependencies do not load here.</summary>
    public static IEnumerable<Type> Of(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException exception)
        {
            return exception.Types.OfType<Type>();
        }
    }
}
