namespace Registration.Api.Infrastructure;

public static class TimeProviderExtensions
{
    /// <summary>
    /// Now, truncated to PostgreSQL's microsecond precision, so a time compared in C# equals the same time
    /// read back from the database (expiry boundaries are exact).
    /// </summary>
    public static DateTimeOffset GetDatabaseNow(this TimeProvider timeProvider)
    {
        var now = timeProvider.GetUtcNow();
        return now.AddTicks(-(now.Ticks % (TimeSpan.TicksPerMillisecond / 1000)));
    }

    public static DateTimeOffset AsUtc(this DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
