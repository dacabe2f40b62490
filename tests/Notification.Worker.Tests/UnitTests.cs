using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notification.Worker.Email;
using Notification.Worker.Infrastructure;

namespace Notification.Worker.Tests;

public sealed class ActivationEmailTests
{
    private static readonly ActivationEmail Email = new(
        Guid.Parse("6f1f0c55-0000-0000-0000-000000000001"),
        Guid.NewGuid(),
        "Ann.O'Neil+x@example.test",
        "0427",
        new DateTimeOffset(2030, 1, 2, 15, 3, 5, TimeSpan.FromHours(2)),
        new DateTimeOffset(2030, 1, 2, 15, 4, 5, TimeSpan.FromHours(2)));

    [Fact]
    public void Bodies_SayTheCode_ItsOneMinuteLifetime_AndTheExpiryInUtc()
    {
        Email.TextBody.Should().Contain("0427").And.Contain("one minute").And.Contain("2030-01-02 13:04:05 UTC");
        Email.HtmlBody.Should().Contain("<strong>0427</strong>").And.Contain("one minute").And.Contain("2030-01-02 13:04:05 UTC");
    }

    [Theory]
    [InlineData(60, "one minute")]
    [InlineData(300, "5 minutes")]
    [InlineData(90, "90 seconds")]
    [InlineData(7200, "2 hours")]
    public void Bodies_SayTheLifetimeTheApiGaveTheCode(int seconds, string said)
    {
        var email = Email with { IssuedAt = Email.ExpiresAt.AddSeconds(-seconds) };

        email.TextBody.Should().Contain($"expires {said} after it was issued");
        email.HtmlBody.Should().Contain($"expires {said} after it was issued");
    }

    [Fact]
    public void HtmlBody_EncodesWhatItEmbeds()
    {
        var odd = Email with { Code = "<b>&" };

        odd.HtmlBody.Should().Contain("&lt;b&gt;&amp;").And.NotContain("<b>&");
    }

    [Fact]
    public void Redact_MasksTheRecipientAndTheCode_AndBoundsTheLength()
    {
        var redacted = Email.Redact($"\"{Email.To.ToUpperInvariant()}\" rejected, code 0427\n\n" + new string('x', 1000));

        redacted.Should().Contain("<recipient>").And.Contain("<code>")
            .And.NotContainEquivalentOf(Email.To).And.NotContain("0427").And.NotContain("\n");
        redacted.Length.Should().BeLessThanOrEqualTo(301);
    }

    [Fact]
    public void ToString_ShowsNeitherTheCodeNorTheAddress()
    {
        Email.ToString().Should().NotContain("0427").And.NotContain(Email.To);
    }
}

public sealed class ResilienceSettingsTests
{
    [Fact]
    public void RetryAfter_InSeconds_IsHonouredUpToTheCap()
    {
        using var soon = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        soon.Headers.Add("Retry-After", "2");
        using var late = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        late.Headers.Add("Retry-After", "3600");
        using var none = new HttpResponseMessage(HttpStatusCode.InternalServerError);

        EmailServiceCollectionExtensions.RetryAfter(soon, TimeSpan.FromSeconds(10)).Should().Be(TimeSpan.FromSeconds(2));
        EmailServiceCollectionExtensions.RetryAfter(late, TimeSpan.FromSeconds(10)).Should().Be(TimeSpan.FromSeconds(10));
        EmailServiceCollectionExtensions.RetryAfter(none, TimeSpan.FromSeconds(10)).Should().BeNull("the jittered backoff decides");
    }

    [Fact]
    public void MessageRetryIntervals_Grow_AndAreCapped()
    {
        var options = new ConsumerOptions
        {
            MessageRetryLimit = 5,
            MessageRetryInitialInterval = TimeSpan.FromSeconds(2),
            MessageRetryMaxInterval = TimeSpan.FromSeconds(10),
        };

        options.MessageRetryIntervals().Should().Equal(
            TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
    }
}

public sealed class EmailOptionsTests
{
    [Theory]
    [InlineData("Mailjet", "https://api.mailjet.com", "key", null, "ApiSecret")]
    [InlineData("Mailjet", null, "key", "secret", "BaseUrl")]
    [InlineData("Mailpit", null, null, null, "BaseUrl")]
    [InlineData("Mailpit", "http://localhost:8025", "user", null, "set both or neither")]
    public void ProviderSettings_AreValidated(string provider, string? baseUrl, string? key, string? secret, string expected)
    {
        var result = Validate(provider, baseUrl, key, secret);

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain(expected);
    }

    [Theory]
    [InlineData("Console", null, null, null)]
    [InlineData("Mailpit", "http://localhost:8025", null, null)]
    [InlineData("Mailjet", "https://api.mailjet.com", "key", "secret")]
    public void CompleteSettings_AreValid(string provider, string? baseUrl, string? key, string? secret)
    {
        Validate(provider, baseUrl, key, secret).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task Worker_RefusesToStart_WithIncompleteMailjetSettings()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Database=unused",
            ["RabbitMq:Host"] = "127.0.0.1",
            ["RabbitMq:Username"] = "unused",
            ["RabbitMq:Password"] = "unused",
            ["Email:Provider"] = "Mailjet",
            ["Email:BaseUrl"] = "https://api.mailjet.com",
        });
        builder.AddNotificationWorker();
        using var host = builder.Build();

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("ApiKey");
    }

    private static ValidateOptionsResult Validate(string provider, string? baseUrl, string? key, string? secret) =>
        new EmailOptionsValidator().Validate(null, new EmailOptions
        {
            Provider = Enum.Parse<EmailProvider>(provider),
            BaseUrl = baseUrl is null ? null : new Uri(baseUrl),
            ApiKey = key,
            ApiSecret = secret,
        });
}
