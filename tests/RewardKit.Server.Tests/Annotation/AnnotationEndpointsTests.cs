using System.Net;
using Microsoft.Data.Sqlite;
using RewardKit.Annotation;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Server.Tests.Annotation;

/// <summary>The annotation app over HTTP (the browser tests in RewardKit.Cli.Tests drive the same pages through Chromium).</summary>
public class AnnotationEndpointsTests
{
    [Fact]
    public async Task A_session_in_every_mode_stores_each_answer_and_acknowledges_it_with_a_redirect_to_the_next_task()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("p0"), Ranking("r0", 3), Rating("s0", 2)], k: 1);
        using var client = await server.SignInAsync("ann1");
        Assert.Equal("p0", await client.NextTaskAsync());
        var saved = await client.PostFormAsync("/task/p0", ("choice", "B"), ("strength", "3"), ("reason", "line one\r\nline two"));
        Assert.Equal(HttpStatusCode.SeeOther, saved.StatusCode);
        Assert.Equal("/next?saved=p0", saved.Headers.Location!.OriginalString);
        Assert.Equal("r0", await client.NextTaskAsync());
        Assert.Equal(HttpStatusCode.SeeOther, (await client.PostFormAsync("/task/r0", ("rank_0", "2"), ("rank_1", "3"), ("rank_2", "1"))).StatusCode);
        Assert.Equal("s0", await client.NextTaskAsync());
        var page = await client.Http.GetStringAsync("/task/s0?saved=r0");
        Assert.Contains("Saved your answer to task r0.", page);
        Assert.Equal(HttpStatusCode.SeeOther, (await client.PostFormAsync("/task/s0", ("rating_0", "5"), ("rating_1", "1"))).StatusCode);
        Assert.Null(await client.NextTaskAsync());
        Assert.Contains("you have answered 3 tasks", await client.Http.GetStringAsync("/next"));

        var labels = server.Store.Snapshot().Labels.ToDictionary(l => l.TaskId);
        Assert.Equal((PairChoice.B, 3, "line one\nline two"), (labels["p0"].Answer.Choice!.Value, labels["p0"].Answer.Strength, labels["p0"].Reason!));
        Assert.Equal([2, 3, 1], labels["r0"].Answer.Ranks);
        Assert.Equal([5, 1], labels["s0"].Answer.Ratings);
        Assert.All(labels.Values, l => Assert.Equal("ann1", l.AnnotatorId));
    }

    [Fact]
    public async Task An_annotator_never_sees_another_annotators_labels()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("p0")], k: 2);
        using var first = await server.SignInAsync("ann1");
        using var second = await server.SignInAsync("ann2");
        Assert.Equal("p0", await first.NextTaskAsync());
        await first.PostFormAsync("/task/p0", ("choice", "A"), ("strength", "1"), ("reason", "secret-reason-of-ann1"));
        Assert.Equal("p0", await second.NextTaskAsync());
        var page = await second.Http.GetStringAsync("/task/p0");
        Assert.DoesNotContain("secret-reason-of-ann1", page);
        Assert.Contains("<form method=\"post\" action=\"/task/p0\"", page); // a blank form, not ann1's answer
        await second.PostFormAsync("/task/p0", ("choice", "tie"), ("reason", "mine"));
        var mine = await second.Http.GetStringAsync("/task/p0");
        Assert.Contains("mine", mine);
        Assert.DoesNotContain("secret-reason-of-ann1", mine);
        using var admin = await server.SignInAsync("boss", AnnotatorRole.Admin);
        Assert.DoesNotContain("secret-reason-of-ann1", await admin.Http.GetStringAsync("/admin"));
    }

    [Fact]
    public async Task The_admin_page_shows_progress_speed_accuracy_and_agreement()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("p0"), Pair("p1"), Pair("p2"), Pair("g0", gold: PairChoice.A)], k: 2);
        foreach (var (who, choices) in new[] { ("ann1", "AAB"), ("ann2", "ABB") })
        {
            using var client = await server.SignInAsync(who);
            foreach (var choice in choices)
            {
                var id = await client.NextTaskAsync();
                await client.PostFormAsync($"/task/{id}", ("choice", choice.ToString()), ("strength", "2"));
            }
            var gold = await client.NextTaskAsync();
            Assert.Equal("g0", gold);
            await client.PostFormAsync("/task/g0", ("choice", who == "ann1" ? "A" : "B"), ("strength", "1"));
        }
        using var admin = await server.SignInAsync("boss", AnnotatorRole.Admin);
        var page = await admin.Http.GetStringAsync("/admin");
        var report = AnnotationStatistics.Compute(server.Store.Snapshot());
        Assert.Contains("3 tasks complete", page);
        Assert.Contains("100.0 % of 3 tasks × 2 annotators", page);
        Assert.Contains($"Fleiss' κ: <strong>{report.Agreement[0].FleissKappa:0.000}</strong>", page);
        Assert.Contains("Krippendorff's α (nominal)", page);
        Assert.Contains("<th scope=\"row\">ann1 – ann2</th><td>3</td>", page);
        Assert.Contains("<th scope=\"row\">ann1</th><td>annotator</td><td>4</td>", page);
        Assert.Contains("<td>1</td><td>100 %</td>", page); // ann1: one gold question, right
        Assert.Contains("<td>1</td><td>0 %</td>", page);   // ann2: one gold question, wrong
        Assert.Contains("file order (no model imported)", page);
    }

    [Fact]
    public async Task An_admin_can_invite_an_annotator_whose_token_then_works()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("p0")]);
        using var admin = await server.SignInAsync("boss", AnnotatorRole.Admin);
        var response = await admin.PostFormAsync("/admin/invite", ("id", "new-annotator"), ("role", "annotator"));
        var page = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = System.Text.RegularExpressions.Regex.Match(page, "<code class=\"token\">([^<]+)</code>").Groups[1].Value;
        Assert.Equal("new-annotator", server.Store.FindAnnotator(token)!.Id);
        using var invited = server.NewClient();
        Assert.Equal(HttpStatusCode.SeeOther, (await invited.PostFormAsync("/login", ("token", token))).StatusCode);
        Assert.Equal("p0", await invited.NextTaskAsync());
    }

    [Fact]
    public async Task Signing_out_or_a_replaced_token_ends_the_session()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("p0")]);
        using var client = await server.SignInAsync("ann1");
        Assert.Equal("p0", await client.NextTaskAsync());
        var oldCsrf = await client.CsrfAsync();
        Assert.Equal(HttpStatusCode.SeeOther, (await client.PostFormAsync("/logout")).StatusCode);
        Assert.Equal("/login", (await client.Http.GetAsync("/next")).Headers.Location!.OriginalString);
        var replay = await client.PostRawAsync("/task/p0", [("csrf", oldCsrf), ("choice", "A"), ("strength", "1")]);
        Assert.Equal(HttpStatusCode.Forbidden, replay.StatusCode); // the signed-in session's token is void once signed out

        using var again = await server.SignInAsync("ann2");
        server.Store.Invite("ann2", AnnotatorRole.Annotator); // a new invite replaces the token
        Assert.Equal("/login", (await again.Http.GetAsync("/next")).Headers.Location!.OriginalString);
        Assert.Empty(server.Store.Snapshot().Labels);
    }

    [Fact]
    public async Task Every_page_is_served_with_a_strict_content_security_policy_and_no_server_banner()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("p0")]);
        using var client = server.NewClient();
        var response = await client.Http.GetAsync("/login");
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.False(response.Headers.Contains("Server"));
        var cookie = client.Cookies.GetAllCookies().Single(c => c.Name == "rk_csrf");
        Assert.True(cookie.HttpOnly);
        Assert.Equal("text/javascript", (await client.Http.GetAsync("/assets/annotate.js")).Content.Headers.ContentType!.MediaType);
        Assert.Equal("ok", await client.Http.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task An_internal_error_is_a_500_page_without_a_stack_trace()
    {
        await using var server = await AnnotationTestServer.StartAsync([Pair("p0")]);
        using var client = await server.SignInAsync("ann1");
        using (var broken = new SqliteConnection($"Data Source={server.Store.Path}"))
        {
            broken.Open();
            using var drop = broken.CreateCommand();
            drop.CommandText = "DROP TABLE task_scores;"; // the queue's query now fails inside the server
            drop.ExecuteNonQuery();
        }
        var response = await client.Http.GetAsync("/next");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("an internal error; it was logged, please report it.", body);
        Assert.DoesNotContain("Sqlite", body);
        Assert.DoesNotContain("   at ", body);
    }
}
