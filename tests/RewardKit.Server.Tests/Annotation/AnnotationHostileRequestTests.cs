using System.Net;
using System.Text;
using RewardKit.Annotation;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Server.Tests.Annotation;

/// <summary>
/// Hostile and malformed requests against the annotation app: each gets the right status and a page saying what is
/// wrong and what to do, never a stack trace, and nothing is stored.
/// </summary>
public class AnnotationHostileRequestTests : IClassFixture<AnnotationHostileRequestTests.Fixture>
{
    /// <summary>One server; annR holds ranking r-0, annS rating s-0, annP pairwise p-0, annO pairwise p-1 (k = 1).</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public AnnotationTestServer Server { get; private set; } = null!;
        public AnnotationClient R { get; private set; } = null!;
        public AnnotationClient S { get; private set; } = null!;
        public AnnotationClient P { get; private set; } = null!;
        public AnnotationClient O { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Server = await AnnotationTestServer.StartAsync([Ranking("r-0", 3), Rating("s-0", 2), Pair("p-0"), Pair("p-1"), Pair("p-2")], k: 1);
            (R, S, P, O) = (await Signed("annR", "r-0"), await Signed("annS", "s-0"), await Signed("annP", "p-0"), await Signed("annO", "p-1"));
        }

        async Task<AnnotationClient> Signed(string id, string task)
        {
            var client = await Server.SignInAsync(id);
            Assert.Equal(task, await client.NextTaskAsync());
            return client;
        }

        public async Task DisposeAsync()
        {
            foreach (var c in new[] { R, S, P, O }) c.Dispose();
            await Server.DisposeAsync();
        }
    }

    readonly Fixture _f;
    public AnnotationHostileRequestTests(Fixture fixture) => _f = fixture;

    static (string, string)[] Valid => [("choice", "A"), ("strength", "2")];

    /// <summary>The hostile requests by name: what is sent, the status expected and a phrase of the message.</summary>
    static readonly Dictionary<string, (Func<Fixture, Task<HttpResponseMessage>> Send, HttpStatusCode Status, string Expected)> Cases = new()
    {
        ["forged CSRF token"] = (f => f.P.PostRawAsync("/task/p-0", [("csrf", new string('a', 64)), .. Valid]), HttpStatusCode.Forbidden, "CSRF token does not match"),
        ["missing CSRF token"] = (f => f.P.PostRawAsync("/task/p-0", Valid), HttpStatusCode.Forbidden, "has no CSRF token"),
        ["CSRF token of another annotator's session"] = (async f => await f.P.PostRawAsync("/task/p-0", [("csrf", await f.O.CsrfAsync()), .. Valid]), HttpStatusCode.Forbidden, "does not match this session"),
        ["no CSRF cookie (a cross-site post)"] = (f => CrossSite(f, "/task/p-0"), HttpStatusCode.Forbidden, "CSRF cookie is missing"),
        ["answering another annotator's task"] = (f => f.P.PostFormAsync("/task/p-1", Valid), HttpStatusCode.Forbidden, "task 'p-1' was not handed out to you"),
        ["viewing another annotator's task"] = (f => f.P.Http.GetAsync("/task/p-1"), HttpStatusCode.Forbidden, "each annotator sees only their own tasks"),
        ["answering a task handed to nobody"] = (f => f.P.PostFormAsync("/task/p-2", Valid), HttpStatusCode.Forbidden, "was not handed out to you"),
        ["unknown task id"] = (f => f.P.PostFormAsync("/task/no-such-task", Valid), HttpStatusCode.NotFound, "there is no task 'no-such-task'"),
        ["unknown task page"] = (f => f.P.Http.GetAsync("/task/no-such-task"), HttpStatusCode.NotFound, "there is no task 'no-such-task'"),
        ["very long task id"] = (f => f.P.Http.GetAsync("/task/" + new string('x', 3000)), HttpStatusCode.NotFound, "there is no task 'xxxxxxxxxx"),
        ["task id with markup"] = (f => f.P.Http.GetAsync("/task/%3Cb%20onmouseover%3Dalert(1)%3Ex"), HttpStatusCode.NotFound, "there is no task '<b onmouseover=alert(1)>x'"),
        ["oversized reason"] = (f => f.P.PostFormAsync("/task/p-0", [.. Valid, ("reason", new string('r', 5000))]), HttpStatusCode.RequestEntityTooLarge, "reason is 5000 characters; the limit is 2000"),
        ["terminal escapes in the reason"] = (f => f.P.PostFormAsync("/task/p-0", [.. Valid, ("reason", "ok\u001b[31m red")]), HttpStatusCode.BadRequest, "reason contains control characters"),
        ["NUL bytes in the form"] = (f => f.P.PostFormAsync("/task/p-0", [.. Valid, ("reason", "ok\u0000")]), HttpStatusCode.BadRequest, "the form could not be read"),
        ["unknown choice"] = (f => f.P.PostFormAsync("/task/p-0", ("choice", "C"), ("strength", "2")), HttpStatusCode.BadRequest, "choice is 'C'; pick A, B or tie"),
        ["missing choice"] = (f => f.P.PostFormAsync("/task/p-0", ("strength", "2")), HttpStatusCode.BadRequest, "choice is missing"),
        ["strength out of range"] = (f => f.P.PostFormAsync("/task/p-0", ("choice", "A"), ("strength", "7")), HttpStatusCode.BadRequest, "strength is 7"),
        ["strength not a number"] = (f => f.P.PostFormAsync("/task/p-0", ("choice", "B"), ("strength", "-1")), HttpStatusCode.BadRequest, "strength is '-1'"),
        ["unknown form field"] = (f => f.P.PostFormAsync("/task/p-0", [.. Valid, ("annotator", "annO")]), HttpStatusCode.BadRequest, "unknown field 'annotator'"),
        ["a field sent twice"] = (f => f.P.PostFormAsync("/task/p-0", ("choice", "A"), ("choice", "B"), ("strength", "2")), HttpStatusCode.BadRequest, "field 'choice' was sent 2 times"),
        ["two responses with the same rank"] = (f => f.R.PostFormAsync("/task/r-0", ("rank_0", "1"), ("rank_1", "1"), ("rank_2", "2")), HttpStatusCode.BadRequest, "same rank"),
        ["rank out of range"] = (f => f.R.PostFormAsync("/task/r-0", ("rank_0", "9"), ("rank_1", "1"), ("rank_2", "2")), HttpStatusCode.BadRequest, "rank_0 is 9; ranks run from 1 (best) to 3"),
        ["missing rank"] = (f => f.R.PostFormAsync("/task/r-0", ("rank_0", "1"), ("rank_1", "2")), HttpStatusCode.BadRequest, "rank_2 is missing"),
        ["rating out of range"] = (f => f.S.PostFormAsync("/task/s-0", ("rating_0", "6"), ("rating_1", "1")), HttpStatusCode.BadRequest, "rating_0 is 6; ratings run from 1 to 5"),
        ["rating not a number"] = (f => f.S.PostFormAsync("/task/s-0", ("rating_0", "4.5"), ("rating_1", "1")), HttpStatusCode.BadRequest, "rating_0 is '4.5'"),
        ["pairwise fields on a rating task"] = (f => f.S.PostFormAsync("/task/s-0", Valid), HttpStatusCode.BadRequest, "unknown field 'choice'"),
        ["not signed in"] = (async f => { using var c = f.Server.NewClient(); return await c.PostFormAsync("/task/p-0", Valid); }, HttpStatusCode.Unauthorized, "sign in with your invite token first"),
        ["unknown invite token"] = (async f => { using var c = f.Server.NewClient(); return await c.PostFormAsync("/login", ("token", "rk_guessed")); }, HttpStatusCode.Unauthorized, "unknown invite token"),
        ["JSON instead of a form"] = (f => f.P.Http.PostAsync("/task/p-0", new StringContent("{\"choice\":\"A\"}", Encoding.UTF8, "application/json")), HttpStatusCode.UnsupportedMediaType, "application/x-www-form-urlencoded"),
        ["body over the form limit"] = (f => f.P.PostFormAsync("/task/p-0", [.. Valid, ("reason", new string('r', 70_000))]), HttpStatusCode.RequestEntityTooLarge, "the limit is 65536"),
        ["too many form fields"] = (f => f.P.PostFormAsync("/task/p-0", [.. Enumerable.Range(0, 100).Select(i => ($"f{i}", "x"))]), HttpStatusCode.RequestEntityTooLarge, "too many or too long fields"),
        ["admin page as an annotator"] = (f => f.P.Http.GetAsync("/admin"), HttpStatusCode.Forbidden, "the admin pages need an admin invite token"),
        ["invite as an annotator"] = (f => f.P.PostFormAsync("/admin/invite", ("id", "mallory"), ("role", "admin")), HttpStatusCode.Forbidden, "Nobody was invited"),
        ["PUT on a task"] = (f => f.P.Http.PutAsync("/task/p-0", new StringContent("")), HttpStatusCode.MethodNotAllowed, "PUT is not allowed on /task/p-0"),
        ["unknown page"] = (f => f.P.Http.GetAsync("/wp-admin.php"), HttpStatusCode.NotFound, "there is no page at /wp-admin.php"),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    static async Task<HttpResponseMessage> CrossSite(Fixture f, string path)
    {
        // Another site's page can make the browser send the session cookie (were it not SameSite) but not read our nonce.
        var session = f.P.Cookies.GetAllCookies().Single(c => c.Name == "rk_annotator");
        using var client = f.Server.NewClient();
        client.Cookies.Add(new Cookie(session.Name, session.Value, "/", session.Domain));
        return await client.PostRawAsync(path, [("csrf", await f.P.CsrfAsync()), .. Valid]);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_hostile_request_gets_the_right_status_and_a_clear_message_and_stores_nothing(string name)
    {
        var (send, status, expected) = Cases[name];
        var before = _f.Server.Store.Snapshot().Labels.Count;
        var response = await send(_f);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{name}: {(int)response.StatusCode} {body}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, WebUtility.HtmlDecode(body));
        Assert.DoesNotContain("<b onmouseover", body);
        Assert.DoesNotContain("Exception", body);
        Assert.DoesNotContain("   at ", body);
        Assert.Equal(before, _f.Server.Store.Snapshot().Labels.Count);
    }

    [Fact]
    public void There_are_at_least_twenty_hostile_cases() => Assert.True(Cases.Count >= 20, $"{Cases.Count} cases");

    [Fact]
    public async Task Script_in_a_reason_is_stored_as_written_and_shown_back_escaped()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("x-0")], k: 1);
        using var client = await server.SignInAsync("ann");
        Assert.Equal("x-0", await client.NextTaskAsync());
        const string reason = "<script>alert('owned')</script><img src=x onerror=alert(1)> & \"quotes\"";
        Assert.Equal(HttpStatusCode.SeeOther, (await client.PostFormAsync("/task/x-0", ("choice", "A"), ("strength", "1"), ("reason", reason))).StatusCode);
        Assert.Equal(reason, server.Store.FindLabel("x-0", "ann")!.Reason);
        var page = await client.Http.GetStringAsync("/task/x-0");
        Assert.Contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;", page);
        Assert.DoesNotContain("<script>alert", page);
        Assert.DoesNotContain("<img src=x", page);
    }

    [Fact]
    public async Task Answering_twice_is_a_conflict_and_the_first_answer_stands()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("x-0")], k: 1);
        using var client = await server.SignInAsync("ann");
        await client.NextTaskAsync();
        Assert.Equal(HttpStatusCode.SeeOther, (await client.PostFormAsync("/task/x-0", ("choice", "B"), ("strength", "3"))).StatusCode);
        var again = await client.PostFormAsync("/task/x-0", ("choice", "A"), ("strength", "1"));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("you already answered task 'x-0'; answers are final", WebUtility.HtmlDecode(await again.Content.ReadAsStringAsync()));
        Assert.Equal(PairChoice.B, server.Store.FindLabel("x-0", "ann")!.Answer.Choice);
    }

    [Fact]
    public async Task Requests_beyond_the_per_token_rate_limit_get_429_with_Retry_After_while_other_tokens_go_on()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("x-0"), Pair("x-1")], k: 1, requestsPerMinute: 5);
        using var greedy = await server.SignInAsync("greedy"); // the sign-in used 2 requests of this address, not of the token
        HttpResponseMessage? last = null;
        for (int i = 0; i < 6; i++) last = await greedy.Http.GetAsync("/guidelines");
        Assert.Equal(HttpStatusCode.TooManyRequests, last!.StatusCode);
        Assert.True(int.Parse(last.Headers.GetValues("Retry-After").Single()) is > 0 and <= 60);
        Assert.Contains("too many requests from this invite token: the limit is 5 per minute", await last.Content.ReadAsStringAsync());
        var other = server.NewClient();
        other.Cookies.Add(new Uri(server.Url), new Cookie("rk_annotator", server.Store.Invite("patient", AnnotatorRole.Annotator)));
        Assert.Equal(HttpStatusCode.OK, (await other.Http.GetAsync("/guidelines")).StatusCode);
    }

    [Fact]
    public async Task Guessing_tokens_is_rate_limited_per_address()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("x-0")], k: 1, requestsPerMinute: 4);
        using var client = server.NewClient();
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++) statuses.Add((await client.PostRawAsync("/login", [("csrf", "x"), ("token", $"rk_guess{i}")])).StatusCode);
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Forbidden, 4), HttpStatusCode.TooManyRequests], statuses); // 403: no CSRF cookie
    }
}
