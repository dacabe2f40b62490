using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notification.Worker.Email;
using Notification.Worker.Infrastructure;
using Notification.Worker.Redelivery;

namespace Notification.Worker.Tests;

public sealed class ResilienceSettingsTests
{
    [Fact]
    public void RetryAfter_InSecondsOrAsADate_IsRead_AndNothingWithoutOne()
    {
        using var seconds = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        seconds.Headers.Add("Retry-After", "3600");
        using var date = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        date.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddMinutes(10));
        using var past = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        past.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddMinutes(-10));
        using var none = new HttpResponseMessage(HttpStatusCode.InternalServerError);

        ProviderHttp.RetryAfter(seconds).Should().Be(TimeSpan.FromHours(1));
        ProviderHttp.RetryAfter(date).Should().BeCloseTo(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5));
        ProviderHttp.RetryAfter(past).Should().Be(TimeSpan.Zero);
        ProviderHttp.RetryAfter(none).Should().BeNull("the jittered backoff decides");
    }

    [Theory]
    [InlineData(0.2, 1)]
    [InlineData(1, 1)]
    [InlineData(1.9, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(63, 32)]
    [InlineData(3600, 2048)]
    [InlineData(1_000_000, 65536)]
    public void WaitQueueHops_AreTheLongestPowerOfTwoSecondsThatDoesNotOvershoot(double seconds, int hop)
    {
        WaitQueues.HopSeconds(TimeSpan.FromSeconds(seconds)).Should().Be(hop);
        WaitQueues.WaitQueueName("activation-email", hop).Should().Be($"activation-email_wait-{hop}s");
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
