using Registration.Contracts.V1;

namespace EndToEnd.Tests;

/// <summary>A code that died before it could be emailed is never sent; the user gets a fresh one without asking.</summary>
public sealed class ExpiredBeforeDeliveryTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task CodeExpiredBeforeDelivery_IsNeverEmailed_AndAFreshCodeIsEmailedThatActivates()
    {
        // Arrange: this user's registration reaches the worker two minutes late (codes live one minute).
        var email = ApiRequests.UniqueEmail("late");
        var late = new LateDelivery(Environment.Clock, email, TimeSpan.FromMinutes(2));
        await using var worker = await Environment.StartWorkerAsync(observers: late);

        // Act
        var user = await Client.RegisterUserAsync(email);
        var emailed = await Eventually.GetAsync(() => Environment.Provider.DeliveredTo(email), e => e.Count > 0, "an email with a fresh code");
        using var activation = await Client.ActivateAsync(user, emailed[0].Code!);

        // Assert
        late.Delayed.Should().Be(1);
        var codes = await Environment.Database.GetCodesAsync(user.Id);
        codes.Select(code => code.Reason).Should().Equal("registration", "redelivery");
        var outbox = await Environment.Database.GetOutboxMessagesAsync(user.Id);
        outbox.Select(row => (row.MessageType, row.Reason)).Should().Equal(
            (nameof(UserRegistered), null), (nameof(ActivationCodeReissued), "redelivery"));
        var (registered, reissued) = (outbox[0], outbox[1]);

        Environment.Provider.RequestsFor(registered.Id).Should().BeEmpty("a dead code is never sent");
        (await Environment.Database.GetProcessedOutcomeAsync(registered.Id)).Should().Be("expired");
        Environment.Api.Events.Completed<ActivationCodeExpiredBeforeDelivery>().Should().Be(1);

        var fresh = emailed.Should().ContainSingle().Subject;
        fresh.IsFor(reissued.Id).Should().BeTrue();
        fresh.Code.Should().Be(codes[1].Code);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
        (await activation.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("active");
    }
}
