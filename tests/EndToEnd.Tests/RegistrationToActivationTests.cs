namespace EndToEnd.Tests;

/// <summary>The happy path through both services: sign up, receive the code by email, activate.</summary>
public sealed class RegistrationToActivationTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private readonly HttpClient _client = fixture.CreateClient();

    [Theory]
    [InlineData(EmailApi.Mailjet, FakeEmailProvider.MailjetPath)]
    [InlineData(EmailApi.Mailpit, FakeEmailProvider.MailpitPath)]
    public async Task Registration_EmailsOneFourDigitCode_ThatActivatesTheAccount(EmailApi provider, string providerPath)
    {
        // Arrange
        await using var worker = await fixture.StartWorkerAsync(settings => settings.EmailProvider(fixture.Provider, provider));
        var email = ApiRequests.UniqueEmail(provider.ToString().ToLowerInvariant());

        // Act
        var user = await _client.RegisterUserAsync(email);
        var emailed = await Eventually.GetAsync(() => fixture.Provider.DeliveredTo(email), e => e.Count > 0, "the activation email");
        using var activation = await _client.ActivateAsync(user, emailed[0].Code!);

        // Assert
        var sent = emailed.Should().ContainSingle().Subject;
        sent.Path.Should().Be(providerPath);
        sent.Code.Should().MatchRegex("^[0-9]{4}$");
        sent.Code.Should().Be((await fixture.Database.GetCodesAsync(user.Id)).Single().Code);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
        (await activation.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("active");
        fixture.Provider.DeliveredTo(email).Should().ContainSingle("one registration is one email");
    }
}
