using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Registration.Api.Tests.Api.Operators;

/// <summary>GET and DELETE /v1/users/{id}, and the 400s of GET /v1/users, for an operator.</summary>
public sealed class OperatorUserRoutesTests(ApiFixture factory) : ApiTest(factory)
{
    private static readonly System.Net.Http.Headers.AuthenticationHeaderValue Operator = ApiRequests.OperatorCredentials;

    public static TheoryData<string> MalformedIds => new()
    {
        "not-a-uuid",
        "123",
        "3f2504e0-4f89-41d3-9a0c-0305e82c330",
        "3f2504e0-4f89-41d3-9a0c-0305e82c33011",
        "zf2504e0-4f89-41d3-9a0c-0305e82c3301",
        "3f2504e0_4f89_41d3_9a0c_0305e82c3301",
        "%E2%98%83",
        "null",
        new string('a', 3000),
    };

    [Fact]
    public async Task GetUser_ReturnsTheUserBody_WithoutTheHash()
    {
        var user = await Client.RegisterActiveUserAsync(Environment.Database);

        using var response = await Client.GetUserAsync(Operator, user.Id.ToString());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.ReadJsonAsync();
        body.EnumerateObject().Select(property => property.Name)
            .Should().BeEquivalentTo(ApiRequests.UserBodyProperties);
        body.GetProperty("id").GetGuid().Should().Be(user.Id);
        body.GetProperty("email").GetString().Should().Be(user.Email);
        body.GetProperty("status").GetString().Should().Be("active");
        (await response.Content.ReadAsStringAsync()).Should().NotContain("$2");
    }

    [Fact]
    public async Task GetUser_AcceptsTheIdInUpperCase()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.GetUserAsync(Operator, user.Id.ToString().ToUpperInvariant());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GetUser_ReturnsNotFound_ForAnUnknownId()
    {
        using var response = await Client.GetUserAsync(Operator, Guid.NewGuid().ToString());

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    [Theory]
    [MemberData(nameof(MalformedIds))]
    public async Task GetUser_ReturnsValidationFailed_ForAMalformedId(string id)
    {
        using var response = await Client.GetUserAsync(Operator, id);

        await response.ShouldBeValidationProblemAsync("id");
    }

    [Fact]
    public async Task DeleteUser_ReturnsNoContent_AndTheAccountItsCodesAndItsAddressAreGone()
    {
        var user = await Client.RegisterUserAsync();

        using var response = await Client.DeleteUserAsync(Operator, user.Id.ToString());

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var get = await Client.GetUserAsync(Operator, user.Id.ToString());
        await get.ShouldBeProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        using var me = await Client.GetMeAsync(user.Credentials);
        await me.ShouldBeUnauthorizedAsync();
        (await Environment.Database.GetCodesAsync(user.Id)).Should().BeEmpty();
        using var again = await Client.RegisterAsync(user.Email, ApiRequests.DefaultPassword);
        again.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task DeleteUser_ReturnsNotFound_ForAnUnknownId_AndOnASecondDelete()
    {
        var user = await Client.RegisterUserAsync();
        using var first = await Client.DeleteUserAsync(Operator, user.Id.ToString());
        first.StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var second = await Client.DeleteUserAsync(Operator, user.Id.ToString());
        using var unknown = await Client.DeleteUserAsync(Operator, Guid.NewGuid().ToString());

        await second.ShouldBeProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
        await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "/problems/not-found");
    }

    [Theory]
    [MemberData(nameof(MalformedIds))]
    public async Task DeleteUser_ReturnsValidationFailed_ForAMalformedId(string id)
    {
        using var response = await Client.DeleteUserAsync(Operator, id);

        await response.ShouldBeValidationProblemAsync("id");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("+5")]
    [InlineData("%205")]
    [InlineData("99999999999999999999")]
    [InlineData("")]
    public async Task ListUsers_ReturnsValidationFailed_ForALimitOutside1To100(string limit)
    {
        using var response = await Client.ListUsersAsync(Operator, $"?limit={limit}");

        await response.ShouldBeValidationProblemAsync("limit");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("100")]
    public async Task ListUsers_AcceptsALimitAtTheBounds(string limit)
    {
        using var response = await Client.ListUsersAsync(Operator, $"?limit={limit}");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("foo")]
    [InlineData("")]
    [InlineData("deleted")]
    [InlineData("pending,active")]
    public async Task ListUsers_ReturnsValidationFailed_ForAnUnknownStatus(string status)
    {
        using var response = await Client.ListUsersAsync(Operator, $"?status={status}");

        await response.ShouldBeValidationProblemAsync("status");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("!!!!")]
    [InlineData("%00%01")]
    [InlineData("null")]
    [InlineData("AAAA")] // base64 of 3 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // longer than any cursor
    [InlineData("_____________________________w")] // 22 bytes
    [InlineData("%E2%98%83")]
    [InlineData("")]
    public async Task ListUsers_ReturnsValidationFailed_ForACursorThatIsNotOne(string after)
    {
        using var response = await Client.ListUsersAsync(Operator, $"?after={after}");

        await response.ShouldBeValidationProblemAsync("after");
    }

    [Fact]
    public async Task ListUsers_ReturnsValidationFailed_ForRandomBase64OfTheWrongLength()
    {
        var random = new Random(4242);
        foreach (var length in new[] { 1, 8, 16, 23, 25, 32, 40 })
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);

            using var response = await Client.ListUsersAsync(Operator, $"?after={WebEncoders.Base64UrlEncode(bytes)}");

            await response.ShouldBeValidationProblemAsync("after");
        }
    }

    [Fact]
    public async Task ListUsers_ReturnsValidationFailed_ForATruncatedOrAlteredCursor()
    {
        await Client.RegisterUserAsync();
        await Client.RegisterUserAsync();
        using var first = await Client.ListUsersAsync(Operator, "?limit=1");
        var cursor = (await first.ReadPageAsync()).Next;
        cursor.Should().NotBeNullOrEmpty();

        foreach (var broken in new[] { cursor![..^1], cursor[..^4], cursor[..8], cursor + "AAAA", cursor + "=", "*" + cursor[1..] })
        {
            using var response = await Client.ListUsersAsync(Operator, $"?after={Uri.EscapeDataString(broken)}");

            await response.ShouldBeValidationProblemAsync("after");
        }
    }

    [Fact]
    public async Task ListUsers_NeverFailsWithAServerError_ForRandomCursorsOfTheRightLength()
    {
        // 24 random bytes decode to a position (a time and an id): a forged cursor is at worst an empty page.
        var random = new Random(2424);
        for (var i = 0; i < 25; i++)
        {
            var bytes = new byte[24];
            random.NextBytes(bytes);
            if (i % 5 == 0)
            {
                bytes[0] = 0x7F; // far past DateTime.MaxValue
            }

            using var response = await Client.ListUsersAsync(Operator, $"?after={WebEncoders.Base64UrlEncode(bytes)}");

            ((int)response.StatusCode).Should().BeOneOf([200, 400], await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task ListUsers_ReportsEveryInvalidParameter_AtOnce()
    {
        using var response = await Client.ListUsersAsync(Operator, "?status=foo&limit=0&after=garbage");

        var problem = await response.ShouldBeValidationProblemAsync("status");
        problem.GetProperty("errors").EnumerateObject().Select(error => error.Name).Should().BeEquivalentTo("status", "limit", "after");
    }

    [Fact]
    public async Task ListUsers_ReturnsItemsAndNext_InTheDocumentedShape()
    {
        await Client.RegisterUserAsync();

        using var response = await Client.ListUsersAsync(Operator, "?limit=1");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.ReadJsonAsync();
        body.EnumerateObject().Select(property => property.Name).Should().BeEquivalentTo("items", "next");
        body.GetProperty("items").EnumerateArray().Should().ContainSingle().Which.EnumerateObject().Select(property => property.Name)
            .Should().BeEquivalentTo(ApiRequests.UserBodyProperties);
        Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()).Should().NotContain("$2");
    }
}
