namespace EndToEnd.Tests;

/// <summary>The happy path through both services: sign up, receive the code by email, activate.</summary>
public sealed class RegistrationToActivationTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Theory]
    [InlineData(EmailApi.Mailjet, FakeEmailProvider.MailjetPath)]
    [InlineData(EmailApi.Mailpit, FakeEmailProvider.MailpitPath)]
    public async Task Registration_EmailsOneFourDigitCode_ThatActivatesTheAccount(EmailApi provider, string providerPath)
    {
        // Arrange
        await using var worker = await Environment.StartWorkerAsync(settings => settings.EmailProvider(Environment.Provider, provider));
        var email = ApiRequests.UniqueEmail(provider.ToString().ToLowerInvariant());

        // Act
        var user = await Client.RegisterUserAsync(email);
        var emailed = await Eventually.GetAsync(() => Environment.Provider.DeliveredTo(email), e => e.Count > 0, "the activation email");
        using var activation = await Client.ActivateAsync(user, emailed[0].Code!);

        // Assert
        var sent = emailed.Should().ContainSingle().Subject;
        sent.Path.Should().Be(providerPath);
        sent.Code.Should().MatchRegex("^[0-9]{4}$");
        sent.Code.Should().Be((await Environment.Database.GetCodesAsync(user.Id)).Single().Code);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
        (await activation.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("active");
        Environment.Provider.DeliveredTo(email).Should().ContainSingle("one registration is one email");
    }
}
