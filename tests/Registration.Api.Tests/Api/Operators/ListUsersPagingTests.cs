using System.Collections.Concurrent;

namespace Registration.Api.Tests.Api.Operators;

/// <summary>
/// GET /v1/users keyset paging over (created_at, id): no duplicates, no gaps, even while users are being
/// added. Each test starts from an empty users table (this class has a database of its own).
/// </summary>
public sealed class ListUsersPagingTests(ApiFixture factory) : ApiTest(factory)
{
    private static readonly System.Net.Http.Headers.AuthenticationHeaderValue Operator = ApiRequests.OperatorCredentials;

    [Fact]
    public async Task ListUsers_Pages45UsersAs20And20And5_InCreationOrder_WithNextNullOnTheLastPage()
    {
        await EmptyUsersTableAsync();
        var registered = await RegisterManyAsync(45);

        var pages = await ReadAllPagesAsync("limit=20");

        pages.Select(page => page.Items.Count).Should().Equal(20, 20, 5);
        pages[0].Next.Should().NotBeNull();
        pages[1].Next.Should().NotBeNull();
        pages[2].Next.Should().BeNull();
        var listed = pages.SelectMany(page => page.Ids).ToList();
        listed.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(registered);
        listed.Should().Equal(await IdsInKeysetOrderAsync(), "oldest first, ties broken by id");
    }

    [Fact]
    public async Task ListUsers_UsesPagesOf20_WhenNoLimitIsGiven()
    {
        await EmptyUsersTableAsync();
        await RegisterManyAsync(21);

        using var response = await Client.ListUsersAsync(Operator);

        var page = await response.ReadPageAsync();
        page.Items.Should().HaveCount(20);
        page.Next.Should().NotBeNull();
    }

    [Fact]
    public async Task ListUsers_EndsWithNextNull_WhenTheLastPageIsExactlyFull()
    {
        await EmptyUsersTableAsync();
        await RegisterManyAsync(40);

        var pages = await ReadAllPagesAsync("limit=20");

        pages.Select(page => page.Items.Count).Should().Equal(20, 20);
        pages[^1].Next.Should().BeNull("one extra row is read to know whether another page exists");
    }

    [Fact]
    public async Task ListUsers_ListsEveryOriginalUserExactlyOnce_WhileUsersAreInsertedBetweenAndDuringPageFetches()
    {
        await EmptyUsersTableAsync();
        var original = await RegisterManyAsync(45);

        // Registrations keep coming while the operator pages: with the same clock time as the originals
        // (so their ids fall on both sides of every cursor), and straight rows dated before and after them.
        using var stop = new CancellationTokenSource();
        var concurrent = new ConcurrentBag<Guid>();
        var background = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                concurrent.Add((await Client.RegisterUserAsync(ApiRequests.UniqueEmail("concurrent"))).Id);
            }
        });

        var pages = new List<UserPageBody>();
        string? after = null;
        do
        {
            var query = after is null ? "?limit=20" : $"?limit=20&after={after}";
            using var response = await Client.ListUsersAsync(Operator, query);
            var page = await response.ReadPageAsync();
            pages.Add(page);
            after = page.Next;

            await RegisterManyAsync(5);
            await InsertUserDatedAsync(Environment.Clock.GetUtcNow().AddMinutes(-1));
            await InsertUserDatedAsync(Environment.Clock.GetUtcNow().AddMinutes(1));
        }
        while (after is not null && pages.Count < 50);

        await stop.CancelAsync();
        await background;

        var listed = pages.SelectMany(page => page.Ids).ToList();
        listed.Should().OnlyHaveUniqueItems("no user appears on two pages");
        foreach (var id in original)
        {
            listed.Count(listedId => listedId == id).Should().Be(1, "original user {0} is listed exactly once", id);
        }

        listed.Should().Equal(listed.OrderBy(id => id, KeysetOrder(await CreatedAtByIdAsync())), "pages follow the keyset order");
        concurrent.Should().NotBeEmpty("registrations really ran during the paging");
    }

    [Fact]
    public async Task ListUsers_FiltersByStatus_AndPagesWithinTheFilter()
    {
        await EmptyUsersTableAsync();
        var pending = await RegisterManyAsync(7);
        var active = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            active.Add((await Client.RegisterActiveUserAsync(Environment.Database)).Id);
        }

        var pendingPages = await ReadAllPagesAsync("status=pending&limit=3");
        var activePages = await ReadAllPagesAsync("status=active&limit=3");
        var all = await ReadAllPagesAsync("limit=100");

        pendingPages.Select(page => page.Items.Count).Should().Equal(3, 3, 1);
        pendingPages.SelectMany(page => page.Ids).Should().BeEquivalentTo(pending);
        pendingPages.SelectMany(page => page.Items).Should().OnlyContain(item => item.GetProperty("status").GetString() == "pending");
        activePages.Select(page => page.Items.Count).Should().Equal(3, 2);
        activePages.SelectMany(page => page.Ids).Should().BeEquivalentTo(active);
        activePages.SelectMany(page => page.Items).Should().OnlyContain(item => item.GetProperty("status").GetString() == "active");
        all.Should().ContainSingle().Which.Items.Should().HaveCount(12);
    }

    [Fact]
    public async Task ListUsers_ReturnsAnEmptyPage_WhenThereAreNoUsers()
    {
        await EmptyUsersTableAsync();

        using var response = await Client.ListUsersAsync(Operator);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var page = await response.ReadPageAsync();
        page.Items.Should().BeEmpty();
        page.Next.Should().BeNull();
    }

    private async Task<List<UserPageBody>> ReadAllPagesAsync(string query)
    {
        var pages = new List<UserPageBody>();
        string? after = null;
        do
        {
            using var response = await Client.ListUsersAsync(Operator, after is null ? $"?{query}" : $"?{query}&after={after}");
            var page = await response.ReadPageAsync();
            pages.Add(page);
            after = page.Next;
        }
        while (after is not null && pages.Count < 100);

        return pages;
    }

    /// <summary>
    /// Registers users through the API in concurrent batches of ten: a batch shares one creation time (so
    /// the id breaks the tie), batches are a second apart.
    /// </summary>
    private async Task<List<Guid>> RegisterManyAsync(int count)
    {
        var ids = new List<Guid>();
        for (var registered = 0; registered < count; registered += 10)
        {
            var batch = await Task.WhenAll(Enumerable.Range(0, Math.Min(10, count - registered)).Select(_ => Client.RegisterUserAsync()));
            ids.AddRange(batch.Select(user => user.Id));
            Environment.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        return ids;
    }

    private Task InsertUserDatedAsync(DateTimeOffset createdAt) =>
        Environment.Database.InsertPendingUserAsync(Guid.NewGuid(), ApiRequests.UniqueEmail("dated"), createdAt);

    private Task EmptyUsersTableAsync() => Environment.Database.ExecuteAsync("TRUNCATE users CASCADE");

    private async Task<List<Guid>> IdsInKeysetOrderAsync()
    {
        var createdAt = await CreatedAtByIdAsync();
        return createdAt.Keys.Order(KeysetOrder(createdAt)).ToList();
    }

    private async Task<Dictionary<Guid, DateTime>> CreatedAtByIdAsync()
    {
        await using var connection = await Environment.Database.OpenAsync();
        var rows = await Dapper.SqlMapper.QueryAsync<(Guid Id, DateTime CreatedAt)>(connection, "SELECT id, created_at FROM users");
        return rows.ToDictionary(row => row.Id, row => row.CreatedAt);
    }

    /// <summary>(created_at, id) as PostgreSQL orders them: uuids compare as their 16 bytes, big-endian.</summary>
    private static Comparer<Guid> KeysetOrder(Dictionary<Guid, DateTime> createdAt) => Comparer<Guid>.Create((a, b) =>
    {
        var byTime = createdAt[a].CompareTo(createdAt[b]);
        return byTime != 0 ? byTime : a.ToByteArray(bigEndian: true).AsSpan().SequenceCompareTo(b.ToByteArray(bigEndian: true));
    });
}
