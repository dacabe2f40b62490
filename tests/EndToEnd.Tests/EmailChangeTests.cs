using System.Text.Json;
using Registration.Contracts.V1;

namespace EndToEnd.Tests;

/// <summary>
/// An active account changes its email through both services: the activation email comes from a worker, the
/// change's two events leave the API through the broker (the code for the new address, the notice for the
/// old one), and the sign-in address switches only when the code comes back.
/// </summary>
public sealed class EmailChangeTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task EmailChange_PublishesTheCodeForTheNewAddressAndTheNoticeForTheOldOne_AndSignInSwitchesAtConfirmation()
    {
        // Arrange: taps on the change's exchanges before anything is published; an active user, activated
        // with the code a worker emailed.
        await using var requestedTap = await ExchangeTap.BindAsync(Environment.VirtualHost, Broker.ExchangeOf<EmailChangeRequested>());
        await using var changedTap = await ExchangeTap.BindAsync(Environment.VirtualHost, Broker.ExchangeOf<EmailChanged>());
        await using var worker = await Environment.StartWorkerAsync();
        var user = await ActiveUserByEmailAsync();
        var newEmail = ApiRequests.UniqueEmail("new");

        // Act
        using var patch = await Client.PatchMeAsync(user, new { email = newEmail });
        var requested = await Eventually.GetAsync(requestedTap.ReadAsync, messages => messages.Count > 0, "EmailChangeRequested on the broker");
        var code = JsonDocument.Parse(requested[0].Body).RootElement.GetProperty("message").GetProperty("confirmationCode").GetString()!;
        using var beforeConfirmation = await Client.GetMeAsync(BasicAuth.Header(newEmail, user.Password));
        using var confirmation = await Client.ConfirmEmailChangeAsync(user, code);
        var changed = await Eventually.GetAsync(changedTap.ReadAsync, messages => messages.Count > 0, "EmailChanged on the broker");

        // Assert
        patch.StatusCode.Should().Be(HttpStatusCode.OK);
        var request = JsonDocument.Parse(requested.Should().ContainSingle().Subject.Body).RootElement.GetProperty("message");
        request.GetProperty("userId").GetGuid().Should().Be(user.Id);
        request.GetProperty("newEmail").GetString().Should().Be(newEmail, "the code goes to the new address");
        await beforeConfirmation.ShouldBeUnauthorizedAsync();
        confirmation.StatusCode.Should().Be(HttpStatusCode.OK, await confirmation.Content.ReadAsStringAsync());
        var notice = JsonDocument.Parse(changed.Should().ContainSingle().Subject.Body).RootElement.GetProperty("message");
        notice.GetProperty("oldEmail").GetString().Should().Be(user.Email, "the notice goes to the old address");
        notice.GetProperty("newEmail").GetString().Should().Be(newEmail);
        notice.TryGetProperty("confirmationCode", out _).Should().BeFalse("the notice carries no code");
        using var withNew = await Client.GetMeAsync(BasicAuth.Header(newEmail, user.Password));
        using var withOld = await Client.GetMeAsync(user);
        withNew.StatusCode.Should().Be(HttpStatusCode.OK);
        await withOld.ShouldBeUnauthorizedAsync();
    }

    [Fact]
    public async Task EmailChange_EmailsTheCodeToTheNewAddressAndTheNoticeToTheOldOne()
    {
        // Arrange
        await using var worker = await Environment.StartWorkerAsync();
        var user = await ActiveUserByEmailAsync();
        var newEmail = ApiRequests.UniqueEmail("new");

        // Act
        using var patch = await Client.PatchMeAsync(user, new { email = newEmail });
        var codeEmail = await Eventually.GetAsync(() => Environment.Provider.DeliveredTo(newEmail), e => e.Count > 0, "the confirmation code at the new address");
        using var confirmation = await Client.ConfirmEmailChangeAsync(user, codeEmail[0].Code!);
        var notices = await Eventually.GetAsync(() => Environment.Provider.DeliveredTo(user.Email), e => e.Count > 1, "the notice at the old address");

        // Assert
        patch.StatusCode.Should().Be(HttpStatusCode.OK);
        confirmation.StatusCode.Should().Be(HttpStatusCode.OK);
        notices[^1].Code.Should().BeNull("the notice carries no code");
        Environment.Provider.DeliveredTo(newEmail).Should().ContainSingle();
    }

    /// <summary>Registers, activates with the code the worker emailed, and waits out the resend cooldown.</summary>
    private async Task<TestUser> ActiveUserByEmailAsync()
    {
        var user = await Client.RegisterUserAsync(ApiRequests.UniqueEmail("old"));
        var activationEmail = await Eventually.GetAsync(() => Environment.Provider.DeliveredTo(user.Email), e => e.Count > 0, "the activation email");
        using var activation = await Client.ActivateAsync(user, activationEmail[0].Code!);
        activation.StatusCode.Should().Be(HttpStatusCode.OK);
        Environment.Clock.Advance(ActivationDefaults.ResendCooldown);
        return user;
    }
}
