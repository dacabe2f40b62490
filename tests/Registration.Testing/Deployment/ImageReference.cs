namespace Registration.Testing.Deployment;

/// <summary>An image reference split as Docker reads it: <c>registry/path/name:tag</c> (a port's colon stays in the repository).</summary>
public static class ImageReference
{
    public static (string Repository, string? Tag) Split(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var lastSlash = reference.LastIndexOf('/');
        var colon = reference.IndexOf(':', lastSlash + 1);
        return colon < 0 ? (reference, null) : (reference[..colon], reference[(colon + 1)..]);
    }
}
