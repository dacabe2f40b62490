using System.Net;
using EndToEnd.Tests.Support;
using FluentAssertions;

namespace EndToEnd.Tests;

/// <summary>The happy path through both services: sign up, receive the code by email, activate.</summary>
public sealed class RegistrationToActivationTests(EndToEndEnvironment environment) : IClassFixture<EndToEndEnvironment>
{
    [Theory]
    [InlineData("Mailjet", FakeEmailProvider.MailjetPath)]
    [InlineData("Mailpit", FakeEmailProvider.MailpitPath)]
    public async Task Registration_EmailsOneFourDigitCode_ThatActivatesTheAccount(string provider, string providerPath)
    {
        // Arrange
        await using var worker = await environment.StartWorkerAsync(new Dictionary<string, string?> { ["Email:Provider"] = provider });
        var email = RegistrationApi.NewEmail(provider.ToLowerInvariant());

        // Act
        var userId = await environment.Client.RegisterAsync(email);
        var emailed = await Eventually.GetAsync(() => environment.Provider.DeliveredTo(email), e => e.Count > 0, "the activation email");
        using var activation = await environment.Client.ActivateAsync(email, emailed[0].Code!);

        // Assert
        var sent = emailed.Should().ContainSingle().Subject;
        sent.Path.Should().Be(providerPath);
        sent.Code.Should().MatchRegex("^[0-9]{4}$");
        sent.Code.Should().Be((await environment.Database.CodesAsync(userId)).Single().Code);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
        (await activation.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("active");
        environment.Provider.DeliveredTo(email).Should().ContainSingle("one registration is one email");
    }
}
