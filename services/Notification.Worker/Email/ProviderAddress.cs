namespace Notification.Worker.Email;

/// <summary>
/// An address as both HTTP providers' send APIs take it (<c>{"Email": ..., "Name": ...}</c>); the name is
/// left out when there is none.
/// </summary>
internal sealed record ProviderAddress(string Email, string? Name)
{
    /// <summary>The configured sender, with its display name when <c>Email:From</c> has one.</summary>
    public static ProviderAddress From(EmailOptions options)
    {
        var from = options.FromAddress();
        return new ProviderAddress(from.Address, string.IsNullOrEmpty(from.DisplayName) ? null : from.DisplayName);
    }

    /// <summary>A recipient: the address alone.</summary>
    public static ProviderAddress To(string email) => new(email, null);
}
