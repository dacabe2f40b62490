namespace Registration.Testing.Settings;

/// <summary>
/// The design's defaults of <c>Activation:CodeLifetime</c> and <c>Activation:ResendCooldown</c>, which the API runs with
/// in tests (<see cref="Hosts.TestEnvironment.ApiSettings"/> leaves both as they are): the times a test moves the fake
/// clock by to expire a code or to get past the cooldown.
/// </summary>
public static class ActivationDefaults
{
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan ResendCooldown = TimeSpan.FromSeconds(30);
}
