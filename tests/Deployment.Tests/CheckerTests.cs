
namespace Deployment.Tests;

/// <summary>The checkers the other tests rely on catch what they are meant to catch.</summary>
public sealed class CheckerTests
{
    [Theory]
    [InlineData("Activation:CodeLifetime")]
    [InlineData("activation:codelifetime")]
    [InlineData("Security:BcryptWorkFactor")]
    [InlineData("Http:KnownProxies:0")]
    [InlineData("RateLimiting:Enabled")]
    [InlineData("Outbox:BatchSize")]
    [InlineData("ConnectionStrings:Postgres")]
    [InlineData("ASPNETCORE_URLS")]
    [InlineData("Logging:LogLevel:Default")]
    public void ServiceConfiguration_KnowsKeysTheApiReads(string key)
    {
        ServiceConfiguration.Api.WhyItReads(key).Should().NotBeNull();
    }

    [Theory]
    [InlineData("Activation:CodeLifetme")]
    [InlineData("RabbitMq:Hostname")]
    [InlineData("ConnectionStrings:Redis")]
    [InlineData("Http:KnownProxies:first")]
    [InlineData("Email:Provider")]
    [InlineData("Admin")]
    public void ServiceConfiguration_RejectsKeysNothingInTheApiReads(string key)
    {
        ServiceConfiguration.Api.WhyItReads(key).Should().BeNull();
    }

    [Theory]
    [InlineData("Email:Provider", true)]
    [InlineData("Email:Resilience:MaxRetryAttempts", true)]
    [InlineData("Consumer:ConcurrentMessageLimit", true)]
    [InlineData("RabbitMq:VirtualHost", true)]
    [InlineData("ASPNETCORE_URLS", false)]
    [InlineData("Admin:ApiKey", false)]
    public void ServiceConfiguration_KnowsWhatTheWorkerReads(string key, bool reads)
    {
        (ServiceConfiguration.Worker.WhyItReads(key) is not null).Should().Be(reads);
    }

    [Fact]
    public void BindAndValidate_ReportsValuesTheServiceWouldRefuse()
    {
        ServiceConfiguration.Api.BindAndValidate(new Dictionary<string, string> { ["Activation__CodeLifetime"] = "soon" }).Should().NotBeEmpty();
        ServiceConfiguration.Api.BindAndValidate(new Dictionary<string, string> { ["Security__BcryptWorkFactor"] = "40" }).Should().NotBeEmpty();
        ServiceConfiguration.Worker.BindAndValidate(new Dictionary<string, string> { ["Email__Provider"] = "Mailjet", ["Email__BaseUrl"] = "https://api.mailjet.com" })
            .Should().Contain(problem => problem.Contains("ApiKey", StringComparison.Ordinal), "Mailjet needs its key and secret");
        // The broker's host and credentials have no default outside Development.
        ServiceConfiguration.Worker.BindAndValidate(new Dictionary<string, string> { ["Email__Provider"] = "Console" })
            .Should().Contain(problem => problem.Contains("RabbitMq", StringComparison.Ordinal));
        ServiceConfiguration.Worker.BindAndValidate(new Dictionary<string, string>
        {
            ["Email__Provider"] = "Console",
            ["RabbitMq__Host"] = "rabbitmq",
            ["RabbitMq__Username"] = "registration",
            ["RabbitMq__Password"] = "registration",
        }).Should().BeEmpty();
    }

    [Theory]
    [InlineData("${A:-x}", "x")]
    [InlineData("${EMPTY:-x}", "x")]
    [InlineData("${EMPTY-x}", "")]
    [InlineData("${SET:-x}", "value")]
    [InlineData("${A:-${B:-nested}}", "nested")]
    [InlineData("${SET:+alt}", "alt")]
    [InlineData("${A:+alt}", "")]
    [InlineData("$$SET and $SET", "$SET and value")]
    [InlineData("127.0.0.1:${PORT:-8000}:8080", "127.0.0.1:8000:8080")]
    public void ComposeInterpolation_ExpandsLikeCompose(string text, string expected)
    {
        var interpolation = new ComposeInterpolation(new Dictionary<string, string> { ["SET"] = "value", ["EMPTY"] = string.Empty });

        interpolation.Interpolate(text).Should().Be(expected);
    }

    [Fact]
    public void ComposeInterpolation_ReportsRequiredAndBareUnsetVariables()
    {
        var interpolation = new ComposeInterpolation(new Dictionary<string, string>());

        interpolation.Invoking(i => i.Interpolate("${SECRET:?set SECRET in deploy/.env}")).Should().Throw<InvalidOperationException>();
        interpolation.Interpolate("${BARE}").Should().BeEmpty();
        interpolation.UnsetWithoutDefault.Should().Equal("BARE");
    }
}
