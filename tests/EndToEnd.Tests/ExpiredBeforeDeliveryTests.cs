using System.Net;
using EndToEnd.Tests.Support;
using FluentAssertions;
using Registration.Contracts.V1;

namespace EndToEnd.Tests;

/// <summary>A code that died before it could be emailed is never sent; the user gets a fresh one without asking.</summary>
public sealed class ExpiredBeforeDeliveryTests(EndToEndEnvironment environment) : IClassFixture<EndToEndEnvironment>
{
    [Fact]
    public async Task CodeExpiredBeforeDelivery_IsNeverEmailed_AndAFreshCodeIsEmailedThatActivates()
    {
        // Arrange: this user's registration reaches the worker two minutes late (codes live one minute).
        var email = RegistrationApi.NewEmail("late");
        var late = new LateDelivery(environment.Clock, email, TimeSpan.FromMinutes(2));
        await using var worker = await environment.StartWorkerAsync(observers: late);

        // Act
        var userId = await environment.Client.RegisterAsync(email);
        var emailed = await Eventually.GetAsync(() => environment.Provider.DeliveredTo(email), e => e.Count > 0, "an email with a fresh code");
        using var activation = await environment.Client.ActivateAsync(email, emailed[0].Code!);

        // Assert
        late.Delayed.Should().Be(1);
        var codes = await environment.Database.CodesAsync(userId);
        codes.Select(code => code.Reason).Should().Equal("registration", "redelivery");
        var outbox = await environment.Database.OutboxAsync(userId);
        outbox.Select(row => (row.MessageType, row.Reason)).Should().Equal(
            (nameof(UserRegistered), null), (nameof(ActivationCodeReissued), "redelivery"));
        var (registered, reissued) = (outbox[0], outbox[1]);

        environment.Provider.Requests.Should().NotContain(request => request.IsFor(registered.Id), "a dead code is never sent");
        (await environment.Database.ProcessedOutcomeAsync(registered.Id)).Should().Be("expired");
        environment.Api.Events.Completed<ActivationCodeExpiredBeforeDelivery>().Should().Be(1);

        var fresh = emailed.Should().ContainSingle().Subject;
        fresh.IsFor(reissued.Id).Should().BeTrue();
        fresh.Code.Should().Be(codes[1].Code);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
        (await activation.ReadJsonAsync()).GetProperty("status").GetString().Should().Be("active");
    }
}
