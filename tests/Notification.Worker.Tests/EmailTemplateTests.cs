using Notification.Worker.Email;
using Notification.Worker.Email.Templates;

namespace Notification.Worker.Tests;

/// <summary>What each kind of email says, and what a provider's answer may never repeat.</summary>
public sealed class EmailTemplateTests
{
    private static readonly Guid MessageId = Guid.Parse("6f1f0c55-0000-0000-0000-000000000001");
    private static readonly Guid UserId = Guid.Parse("0193a7e2-0000-7000-8000-000000000001");
    private static readonly EmailCode Code = new(
        "0427",
        new DateTimeOffset(2030, 1, 2, 15, 3, 5, TimeSpan.FromHours(2)),
        new DateTimeOffset(2030, 1, 2, 15, 4, 5, TimeSpan.FromHours(2)));

    private static readonly OutgoingEmail Activation = ActivationCodeTemplate.Render(MessageId, UserId, "Ann.O'Neil+x@example.test", Code);

    private static readonly OutgoingEmail Change = EmailChangeCodeTemplate.Render(MessageId, UserId, "new.address@example.org", Code);

    private static readonly OutgoingEmail Notice = EmailChangedNoticeTemplate.Render(
        MessageId, UserId, "old.address@example.test", "jane.doe@example.com", new DateTimeOffset(2030, 1, 2, 13, 5, 0, TimeSpan.Zero));

    [Fact]
    public void ActivationCode_SaysTheCode_ItsOneMinuteLifetime_AndTheExpiryInUtc()
    {
        Activation.Subject.Should().Be("Your activation code");
        Activation.TextBody.Should().Contain("Your activation code is 0427").And.Contain("one minute").And.Contain("2030-01-02 13:04:05 UTC");
        Activation.HtmlBody.Should().Contain("<strong>0427</strong>").And.Contain("one minute").And.Contain("2030-01-02 13:04:05 UTC");
        Activation.Code.Should().Be(Code);
        Activation.Tag.Should().Be("activation");
    }

    [Theory]
    [InlineData(60, "one minute")]
    [InlineData(300, "5 minutes")]
    [InlineData(90, "90 seconds")]
    [InlineData(7200, "2 hours")]
    public void CodeEmails_SayTheLifetimeTheApiGaveTheCode(int seconds, string said)
    {
        var code = Code with { IssuedAt = Code.ExpiresAt.AddSeconds(-seconds) };

        foreach (var email in new[] { ActivationCodeTemplate.Render(MessageId, UserId, "a@example.test", code), EmailChangeCodeTemplate.Render(MessageId, UserId, "a@example.test", code) })
        {
            email.TextBody.Should().Contain($"expires {said} after it was issued");
            email.HtmlBody.Should().Contain($"expires {said} after it was issued");
        }
    }

    [Fact]
    public void EmailChangeCode_GoesToTheNewAddress_AndSaysWhatTheCodeIsFor()
    {
        Change.To.Should().Be("new.address@example.org");
        Change.Subject.Should().Be("Confirm your new email address");
        Change.TextBody.Should().Contain("Your confirmation code is 0427")
            .And.Contain("sign-in address")
            .And.Contain("one minute").And.Contain("2030-01-02 13:04:05 UTC")
            .And.Contain("If you did not ask for this, ignore this email");
        Change.HtmlBody.Should().Contain("<strong>0427</strong>").And.Contain("2030-01-02 13:04:05 UTC");
        Change.Code.Should().Be(Code);
        Change.Tag.Should().Be("email-change");
    }

    [Fact]
    public void EmailChangedNotice_GoesToTheOldAddress_WithTheNewOneMasked_NoCode_AndWhatToDoIfItWasNotYou()
    {
        Notice.To.Should().Be("old.address@example.test");
        Notice.Subject.Should().Be("Your sign-in address was changed");
        Notice.Code.Should().BeNull();
        Notice.TextBody.Should().Contain("changed to j***@e***.com at 2030-01-02 13:05:00 UTC")
            .And.Contain("If you did not")
            .And.Contain(MessageId.ToString(), "the reference to quote to support")
            .And.NotContain("jane.doe").And.NotContain("example.com");
        Notice.HtmlBody.Should().Contain("<strong>j***@e***.com</strong>").And.NotContain("jane.doe");
        Notice.Tag.Should().Be("email-changed");
    }

    [Theory]
    [InlineData("jane.doe@example.com", "j***@e***.com")]
    [InlineData("j@e.co", "j***@e***.co")]
    [InlineData("a.b@mail.example.co.uk", "a***@m***.uk")]
    [InlineData("Émile@exämple.fr", "É***@e***.fr")]
    [InlineData("😀x@example.org", "😀***@e***.org")]
    [InlineData("no-domain-dot@localhost", "n***@l***")]
    [InlineData("not-an-address", "***")]
    [InlineData("@example.com", "***")]
    public void MaskAddress_KeepsTheFirstCharactersAndTheTopLevelDomain_AndHidesTheLengths(string address, string masked)
    {
        EmailText.MaskAddress(address).Should().Be(masked);
    }

    [Fact]
    public void MaskAddress_DoesNotSayHowLongTheHiddenPartsAre()
    {
        EmailText.MaskAddress("j@e.com").Should().Be(EmailText.MaskAddress("jonathan.livingston@eagle-observatory.com"));
    }

    [Fact]
    public void HtmlBodies_EncodeWhatTheyEmbed()
    {
        var odd = ActivationCodeTemplate.Render(MessageId, UserId, "a@example.test", Code with { Value = "<b>&" });
        var oddNotice = EmailChangedNoticeTemplate.Render(MessageId, UserId, "a@example.test", "<b>@x.com", DateTimeOffset.UnixEpoch);

        odd.HtmlBody.Should().Contain("&lt;b&gt;&amp;").And.NotContain("<b>&");
        oddNotice.HtmlBody.Should().Contain("&lt;***@x***.com").And.NotContain("<b>");
    }

    [Fact]
    public void Redact_MasksTheRecipientEveryOtherAddressAndTheCode_AndBoundsTheLength()
    {
        var providerAnswer = $"\"{Activation.To.ToUpperInvariant()}\" rejected, code 0427, sender \"no-reply@example.test\" not validated, cc:someone.else@example.org\n\n"
            + new string('x', 1000);

        var redacted = Activation.Redact(providerAnswer);

        redacted.Should().Contain("<recipient>").And.Contain("<code>").And.Contain("<address>")
            .And.NotContainEquivalentOf(Activation.To).And.NotContain("0427").And.NotContain("@").And.NotContain("\n");
        redacted.Length.Should().BeLessThanOrEqualTo(301);
    }

    [Fact]
    public void Redact_OfANotice_MasksTheOldAndTheNewAddress()
    {
        var redacted = Notice.Redact("""{"Errors":[{"ErrorMessage":"old.address@example.test bounced; jane.doe@example.com unknown"}]}""");

        redacted.Should().NotContain("old.address").And.NotContain("jane.doe").And.NotContain("@");
    }

    [Fact]
    public void ToString_ShowsNeitherTheCodeNorTheAddresses()
    {
        foreach (var email in new[] { Activation, Change, Notice })
        {
            email.ToString().Should().NotContain("0427").And.NotContain(email.To).And.NotContain("jane");
        }
    }
}
