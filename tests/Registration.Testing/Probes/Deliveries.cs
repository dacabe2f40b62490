namespace Registration.Testing.Probes;

/// <summary>
/// What a scenario counts: registrations that got a 201 (sent), users who received an email carrying
/// their latest code (delivered), emails the provider accepted more than once for one MessageId
/// (duplicated), and users with no usable code in their mailbox (lost).
/// </summary>
public sealed record DeliveryCounts(int Sent, int Delivered, int Duplicated, int Lost, int ProviderRequests)
{
    public override string ToString() =>
        $"sent {Sent}, delivered {Delivered}, duplicated {Duplicated}, lost {Lost} (provider requests {ProviderRequests})";
}

public static class Deliveries
{
    public static async Task<DeliveryCounts> CountAsync(IReadOnlyCollection<TestUser> users, FakeEmailProvider provider, TestDatabase database)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(database);

        var addresses = users.Select(user => user.Email).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var requests = provider.Requests.Where(request => request.To is not null && addresses.Contains(request.To)).ToList();
        var accepted = requests.Where(request => request.Accepted).ToList();
        var latest = await database.GetLatestCodesAsync(users.Select(user => user.Id));

        var delivered = users.Count(user => latest.TryGetValue(user.Id, out var code) && accepted.Any(email =>
            string.Equals(email.To, user.Email, StringComparison.OrdinalIgnoreCase) && email.Code == code.Code));
        var duplicated = accepted
            .Where(email => email.MessageId is not null)
            .GroupBy(email => email.MessageId)
            .Sum(group => group.Count() - 1);
        return new DeliveryCounts(users.Count, delivered, duplicated, users.Count - delivered, requests.Count);
    }

    /// <summary>Waits until every user has received a usable code; returns the counts at that moment.</summary>
    public static Task<DeliveryCounts> WaitForAllAsync(
        IReadOnlyCollection<TestUser> users, FakeEmailProvider provider, TestDatabase database, TimeSpan? timeout = null) =>
        Eventually.GetAsync(
            () => CountAsync(users, provider, database),
            counts => counts.Lost == 0,
            $"every one of {users.Count} users receives a usable code",
            timeout);
}
