using Registration.Contracts.V1;

namespace EndToEnd.Tests;

/// <summary>Several worker instances on one queue share the emails and never send one twice.</summary>
public sealed class CompetingWorkersTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const int Registrations = 30;

    private readonly HttpClient _client = fixture.CreateClient();

    [Fact]
    public async Task TwoWorkersOnOneQueue_EmailEachRegistrationExactlyOnce_AndBothTakeAShare()
    {
        // Arrange
        await using var first = await fixture.StartWorkerAsync();
        await using var second = await fixture.StartWorkerAsync();
        var emails = Enumerable.Range(0, Registrations).Select(i => ApiRequests.UniqueEmail($"competing{i}")).ToList();

        // Act
        foreach (var email in emails)
        {
            await _client.RegisterUserAsync(email);
        }

        await Eventually.GetAsync(
            () => first.Events.Completed<UserRegistered>() + second.Events.Completed<UserRegistered>(),
            handled => handled >= Registrations,
            "every registration to be handled");

        // Assert
        fixture.Provider.Delivered.Select(request => request.To).Should().BeEquivalentTo(emails, "each address gets exactly one email");
        fixture.Provider.Delivered.Should().OnlyContain(request => request.Code != null && request.Code.Length == 4);
        first.Events.Completed<UserRegistered>().Should().BePositive("{0} took part", first.Name);
        second.Events.Completed<UserRegistered>().Should().BePositive("{0} took part", second.Name);
        (first.Events.Completed<UserRegistered>() + second.Events.Completed<UserRegistered>()).Should().Be(Registrations);
    }
}
