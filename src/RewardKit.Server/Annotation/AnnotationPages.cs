using System.Globalization;
using System.Net;
using System.Text;
using RewardKit.Annotation;

namespace RewardKit.Server.Annotation;

/// <summary>What every page's frame needs: the signed-in annotator (or null) and the CSRF token for its forms.</summary>
/// <param name="Annotator">Who is signed in, or null.</param>
/// <param name="Csrf">The CSRF token of this browser session.</param>
public sealed record PageContext(Annotator? Annotator, string Csrf);

/// <summary>
/// The app's HTML, rendered on the server: every text from tasks, labels or requests goes through <see cref="H"/>
/// (HTML-escaped); the only script is <c>/assets/annotate.js</c> (keyboard shortcuts), allowed by the CSP.
/// </summary>
public static class AnnotationPages
{
    /// <summary>The 1–5 rubric of rating tasks.</summary>
    public static readonly IReadOnlyList<(int Value, string Name, string Meaning)> Rubric =
    [
        (1, "Unusable", "wrong, harmful or off-topic"),
        (2, "Poor", "major errors or omissions"),
        (3, "Acceptable", "correct but incomplete or unclear"),
        (4, "Good", "correct and clear, minor issues"),
        (5, "Excellent", "correct, complete, clear and well judged"),
    ];

    /// <summary>HTML-escapes <paramref name="text"/> (&lt; &gt; &amp; " ').</summary>
    public static string H(string? text) => WebUtility.HtmlEncode(text ?? "");

    static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    static string Num(double value, string format = "0.000") => double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A whole page: header with navigation, the body in <c>main</c>.</summary>
    public static string Layout(PageContext page, string title, string body)
    {
        var nav = new StringBuilder();
        if (page.Annotator is { } a)
        {
            nav.Append("<a href=\"/next\">Queue</a> <a href=\"/guidelines\">Guidelines</a> ");
            if (a.Role == AnnotatorRole.Admin) nav.Append("<a href=\"/admin\">Admin</a> ");
            nav.Append($"<span class=\"who\">Signed in as <strong>{H(a.Id)}</strong></span> ");
            nav.Append($"<form method=\"post\" action=\"/logout\" class=\"inline\">{Csrf(page)}<button type=\"submit\">Sign out</button></form>");
        }
        else nav.Append("<a href=\"/login\">Sign in</a> <a href=\"/guidelines\">Guidelines</a>");
        return $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{H(title)} · RewardKit annotation</title>
            <link rel="stylesheet" href="/assets/annotate.css">
            <script src="/assets/annotate.js" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header><nav aria-label="Main">{nav}</nav></header>
            <main id="main">
            <h1>{H(title)}</h1>
            {body}
            </main>
            </body>
            </html>
            """;
    }

    static string Csrf(PageContext page) => $"<input type=\"hidden\" name=\"{AnnotationSessions.CsrfField}\" value=\"{H(page.Csrf)}\">";

    /// <summary>The sign-in form (with <paramref name="problem"/> shown when the last attempt failed).</summary>
    public static string Login(PageContext page, string? problem) => Layout(page, "Sign in", $"""
        {Alert(problem)}
        <p>Paste the invite token you were given. It identifies you; keep it private.</p>
        <form method="post" action="/login" class="stack">
        {Csrf(page)}
        <label for="token">Invite token</label>
        <input type="password" id="token" name="token" autocomplete="off" required maxlength="200" autofocus>
        <button type="submit">Sign in</button>
        </form>
        """);

    /// <summary>An error page: the status, what went wrong and what to do (never a stack trace).</summary>
    public static string Error(PageContext page, int status, string message) => Layout(page, $"Error {status}", $"""
        <p class="alert" role="alert">{H(message)}</p>
        <p><a href="/next">Back to your queue</a></p>
        """);

    static string Alert(string? problem) => problem is null ? "" : $"<p class=\"alert\" role=\"alert\">{H(problem)}</p>";

    static string Saved(string? savedTaskId) => savedTaskId is null ? "" : $"<p class=\"saved\" role=\"status\">Saved your answer to task {H(savedTaskId)}.</p>";

    /// <summary>The page shown when an annotator's queue is empty.</summary>
    public static string Done(PageContext page, int answered, string? savedTaskId) => Layout(page, "All done", $"""
        {Saved(savedTaskId)}
        <p>There is nothing left for you to label right now: you have answered {Count(answered, "task")}. Thank you!</p>
        <p>New tasks may arrive later; <a href="/next">check your queue again</a>.</p>
        """);

    /// <summary>A task to answer, in its mode's form.</summary>
    public static string Task(PageContext page, AnnotationTask task, int answered, string? savedTaskId)
    {
        var body = new StringBuilder();
        body.Append(Saved(savedTaskId));
        body.Append($"<p class=\"meta\">Task <code>{H(task.Id)}</code> · {ModeLabel(task.Mode)} · you have answered {answered} so far</p>");
        body.Append($"<section aria-labelledby=\"prompt-heading\" class=\"prompt\"><h2 id=\"prompt-heading\">Prompt</h2><div class=\"text\">{H(task.Prompt)}</div></section>");
        body.Append($"<form method=\"post\" action=\"/task/{H(task.Id)}\" data-mode=\"{AnnotationModes.Name(task.Mode)}\" data-responses=\"{task.Responses.Count}\" class=\"answer\">");
        body.Append(Csrf(page));
        body.Append(task.Mode switch
        {
            AnnotationMode.Pairwise => PairwiseForm(task),
            AnnotationMode.Ranking => RankingForm(task),
            _ => RatingForm(task),
        });
        body.Append($"""
            <div class="reason">
            <label for="reason">Reason (optional, up to {AnnotationLimits.MaxReasonLength} characters) <kbd>R</kbd></label>
            <textarea id="reason" name="reason" rows="3" maxlength="{AnnotationLimits.MaxReasonLength}"></textarea>
            </div>
            <button type="submit" class="primary">Submit <kbd>Enter</kbd></button>
            </form>
            """);
        body.Append(Shortcuts(task.Mode, task.Responses.Count));
        return Layout(page, $"Task {task.Id}", body.ToString());
    }

    static string ModeLabel(AnnotationMode mode) => mode switch
    {
        AnnotationMode.Pairwise => "compare two responses",
        AnnotationMode.Ranking => "rank the responses",
        _ => "rate each response 1–5",
    };

    static string Response(AnnotationTask task, int i, string name) =>
        $"<section aria-labelledby=\"response-{i}-heading\" class=\"response\" data-index=\"{i}\"><h2 id=\"response-{i}-heading\">{H(name)}</h2><div class=\"text\">{H(task.Responses[i])}</div>";

    static string PairwiseForm(AnnotationTask task) => $"""
        <div class="responses two">
        {Response(task, 0, "Response A")}</section>
        {Response(task, 1, "Response B")}</section>
        </div>
        <fieldset class="choices">
        <legend>Which response is better?</legend>
        <label><input type="radio" name="choice" value="A" required> A is better <kbd>A</kbd></label>
        <label><input type="radio" name="choice" value="B"> B is better <kbd>B</kbd></label>
        <label><input type="radio" name="choice" value="tie"> Tie: neither is better <kbd>T</kbd></label>
        </fieldset>
        <fieldset class="choices">
        <legend>How much better? (ignored for a tie)</legend>
        <label><input type="radio" name="strength" value="1"> Slightly <kbd>1</kbd></label>
        <label><input type="radio" name="strength" value="2" checked> Clearly <kbd>2</kbd></label>
        <label><input type="radio" name="strength" value="3"> Much better <kbd>3</kbd></label>
        </fieldset>
        """;

    static string RankingForm(AnnotationTask task)
    {
        int n = task.Responses.Count;
        var html = new StringBuilder("<p class=\"hint\">Give each response a rank: 1 is best, every rank once. Or press the responses' numbers from best to worst.</p><div class=\"responses\">");
        for (int i = 0; i < n; i++)
        {
            html.Append(Response(task, i, $"Response {i + 1}"));
            html.Append($"<p><label for=\"rank_{i}\">Rank of response {i + 1}</label> <select id=\"rank_{i}\" name=\"rank_{i}\" required><option value=\"\">choose</option>");
            for (int r = 1; r <= n; r++) html.Append($"<option value=\"{r}\">{r}</option>");
            html.Append("</select></p></section>");
        }
        return html.Append("</div>").ToString();
    }

    static string RatingForm(AnnotationTask task)
    {
        var html = new StringBuilder("<p class=\"hint\">Rate each response against the rubric on the <a href=\"/guidelines\">guidelines</a> page.</p><div class=\"responses\">");
        for (int i = 0; i < task.Responses.Count; i++)
        {
            html.Append(Response(task, i, $"Response {i + 1}"));
            html.Append($"<fieldset class=\"choices\"><legend>Rating of response {i + 1}</legend>");
            foreach (var (value, name, _) in Rubric)
                html.Append($"<label><input type=\"radio\" name=\"rating_{i}\" value=\"{value}\"{(value == 1 ? " required" : "")}> {value} {H(name)}</label>");
            html.Append("</fieldset></section>");
        }
        return html.Append("</div>").ToString();
    }

    static readonly (string Keys, string Action)[] CommonShortcuts =
        [("R", "write a reason"), ("Enter", "submit (Ctrl+Enter inside the reason)"), ("Esc", "leave the reason box"), ("G", "guidelines"), ("Q", "your queue")];

    /// <summary>The keyboard shortcuts of <paramref name="mode"/> as a definition list.</summary>
    public static string Shortcuts(AnnotationMode mode, int responses)
    {
        (string, string)[] own = mode switch
        {
            AnnotationMode.Pairwise => [("A", "A is better"), ("B", "B is better"), ("T", "tie"), ("1 2 3", "slightly / clearly / much better")],
            AnnotationMode.Ranking => [($"1…{responses}", "the next best response (press them from best to worst)"), ("Backspace", "clear the ranks")],
            _ => [("1…5", "rate the highlighted response and move on"), ("J / K or ↓ / ↑", "highlight the next / previous response")],
        };
        var items = string.Concat(own.Concat(CommonShortcuts).Select(s => $"<dt><kbd>{H(s.Item1)}</kbd></dt><dd>{H(s.Item2)}</dd>"));
        return $"<section class=\"shortcuts\" aria-labelledby=\"shortcuts-heading\"><h2 id=\"shortcuts-heading\">Keyboard shortcuts</h2><dl>{items}</dl></section>";
    }

    /// <summary>An annotator's own answer to a task they already answered (read-only; the reason shown escaped).</summary>
    public static string Answered(PageContext page, AnnotationTask task, AnnotationLabel label)
    {
        var answer = task.Mode switch
        {
            AnnotationMode.Pairwise => label.Answer.Choice == PairChoice.Tie ? "Tie" : $"{label.Answer.Choice} is better (strength {label.Answer.Strength})",
            AnnotationMode.Ranking => "Ranks " + string.Join(", ", label.Answer.Ranks!.Select((r, i) => $"response {i + 1}: {r}")),
            _ => "Ratings " + string.Join(", ", label.Answer.Ratings!.Select((r, i) => $"response {i + 1}: {r}")),
        };
        return Layout(page, $"Task {task.Id}", $"""
            <p>You answered this task on {label.SubmittedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; answers are final.</p>
            <dl class="answer-view"><dt>Your answer</dt><dd>{H(answer)}</dd><dt>Your reason</dt><dd class="text">{H(label.Reason ?? "(none)")}</dd></dl>
            <p><a href="/next">Next task</a></p>
            """);
    }

    /// <summary>The guidelines page: the project's text, the rating rubric and every shortcut.</summary>
    public static string Guidelines(PageContext page, string guidelines)
    {
        var paragraphs = string.IsNullOrWhiteSpace(guidelines)
            ? "<p>Judge which response serves the person who wrote the prompt best: correct, helpful, honest and harmless, in that order. Ignore length unless it helps or hurts the answer.</p>"
            : string.Concat(guidelines.Replace("\r\n", "\n").Split("\n\n").Where(p => p.Trim().Length > 0).Select(p => $"<p class=\"para\">{H(p.Trim())}</p>"));
        var rubric = string.Concat(Rubric.Select(r => $"<tr><th scope=\"row\">{r.Value}</th><td>{H(r.Name)}</td><td>{H(r.Meaning)}</td></tr>"));
        return Layout(page, "Guidelines", $"""
            <section aria-labelledby="g-text"><h2 id="g-text">How to judge</h2>{paragraphs}</section>
            <section aria-labelledby="g-rubric"><h2 id="g-rubric">Rating rubric</h2>
            <table><caption>The 1–5 scale of rating tasks</caption><thead><tr><th scope="col">Rating</th><th scope="col">Name</th><th scope="col">Meaning</th></tr></thead><tbody>{rubric}</tbody></table></section>
            <section aria-labelledby="g-pair"><h2 id="g-pair">Comparisons</h2><p>Pick the better response and how much better it is: slightly, clearly or much better. Choose tie only when neither is better.</p></section>
            {Shortcuts(AnnotationMode.Pairwise, 2).Replace("shortcuts-heading", "sc-pair").Replace(">Keyboard shortcuts<", ">Shortcuts: comparisons<")}
            {Shortcuts(AnnotationMode.Ranking, 4).Replace("shortcuts-heading", "sc-rank").Replace(">Keyboard shortcuts<", ">Shortcuts: rankings<")}
            {Shortcuts(AnnotationMode.Rating, 2).Replace("shortcuts-heading", "sc-rate").Replace(">Keyboard shortcuts<", ">Shortcuts: ratings<")}
            """);
    }

    /// <summary>The admin page: progress, annotators, agreement and the invite form.</summary>
    public static string Admin(PageContext page, AnnotationReport report, string? invitedId = null, string? invitedToken = null)
    {
        var p = report.Progress;
        var body = new StringBuilder();
        if (invitedToken is not null)
            body.Append($"<div class=\"saved\" role=\"status\"><p>Invite token for <strong>{H(invitedId)}</strong> (shown once; only its hash is stored):</p><p><code class=\"token\">{H(invitedToken)}</code></p></div>");
        body.Append($"""
            <section aria-labelledby="a-progress"><h2 id="a-progress">Progress</h2>
            <p><progress value="{Num(p.Fraction)}" max="1" aria-label="labels collected">{Num(100 * p.Fraction, "0")} %</progress> {Num(100 * p.Fraction, "0.0")} % of {p.Tasks} tasks × {p.AnnotatorsPerTask} annotators</p>
            <ul><li>{Count(p.TasksComplete, "task")} complete (k = {p.AnnotatorsPerTask} labels), {p.TasksStarted} started, {p.Tasks - p.TasksStarted} not started</li>
            <li>{Count(p.GoldTasks, "gold question")}; {Count(p.Labels, "label")} in all</li>
            <li>Queue order: {(report.Model is { } m ? $"least certain first by model <strong>{H(m.Name)}</strong> {H(m.Version)} ({m.TasksScored} tasks scored {m.ImportedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC)" : "file order (no model imported)")}</li></ul>
            </section>
            """);
        body.Append(AnnotatorTable(report.Annotators));
        body.Append(AgreementTables(report.Agreement));
        body.Append($"""
            <section aria-labelledby="a-invite"><h2 id="a-invite">Invite an annotator</h2>
            <form method="post" action="/admin/invite" class="stack">{Csrf(page)}
            <label for="invite-id">Annotator id (letters, digits, _ . : -)</label>
            <input type="text" id="invite-id" name="id" required maxlength="{AnnotationLimits.MaxAnnotatorIdLength}" pattern="[A-Za-z0-9_.:\-]+">
            <fieldset class="choices"><legend>Role</legend>
            <label><input type="radio" name="role" value="annotator" checked> Annotator</label>
            <label><input type="radio" name="role" value="admin"> Admin</label></fieldset>
            <button type="submit">Create invite token</button>
            </form></section>
            """);
        return Layout(page, "Admin", body.ToString());
    }

    static string AnnotatorTable(IReadOnlyList<AnnotatorSummary> annotators)
    {
        var rows = string.Concat(annotators.Select(a => $"<tr><th scope=\"row\">{H(a.Id)}</th><td>{(a.Role == AnnotatorRole.Admin ? "admin" : "annotator")}</td><td>{a.Labels}</td>"
            + $"<td>{(a.MedianSeconds is { } s ? Num(s, "0.0") : "–")}</td><td>{(a.MedianSeconds is { } pace && pace > 0 ? Num(3600 / pace, "0") : "–")}</td>"
            + $"<td>{a.GoldAnswered}</td><td>{(a.GoldAccuracy is { } acc ? Num(100 * acc, "0") + " %" : "–")}</td>"
            + $"<td>{(a.LastActiveUtc is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "–")}</td></tr>"));
        return $"""
            <section aria-labelledby="a-annotators"><h2 id="a-annotators">Annotators</h2>
            <table><caption>Speed and gold accuracy per annotator</caption>
            <thead><tr><th scope="col">Annotator</th><th scope="col">Role</th><th scope="col">Labels</th><th scope="col">Median s / label</th><th scope="col">Labels / hour at that pace</th><th scope="col">Gold answered</th><th scope="col">Gold accuracy</th><th scope="col">Last active (UTC)</th></tr></thead>
            <tbody>{rows}</tbody></table></section>
            """;
    }

    static string AgreementTables(IReadOnlyList<ModeAgreement> agreement)
    {
        if (agreement.Count == 0) return "<section aria-labelledby=\"a-agreement\"><h2 id=\"a-agreement\">Agreement</h2><p>No labels yet.</p></section>";
        var html = new StringBuilder("<section aria-labelledby=\"a-agreement\"><h2 id=\"a-agreement\">Agreement</h2><p>Ordinary tasks only (gold questions measure accuracy above). κ and α: 1 = perfect, 0 = chance; n/a when undefined (fewer than two labels per item, or one category only).</p>");
        foreach (var m in agreement)
        {
            var mode = AnnotationModes.Name(m.Mode);
            html.Append($"""
                <h3 id="ag-{mode}">{mode}</h3>
                <ul><li>Items with two or more labels: {m.Items} ({H(m.KappaItems)})</li>
                <li>Fleiss' κ: <strong>{Num(m.FleissKappa)}</strong></li>
                <li>Krippendorff's α ({m.AlphaLevel.ToString().ToLowerInvariant()}): <strong>{Num(m.Alpha)}</strong> (units: {H(m.AlphaItems)})</li></ul>
                """);
            if (m.Pairs.Count == 0) { html.Append("<p>No two annotators share two items yet (Cohen's κ).</p>"); continue; }
            var rows = string.Concat(m.Pairs.Select(pair => $"<tr><th scope=\"row\">{H(pair.First)} – {H(pair.Second)}</th><td>{pair.SharedItems}</td><td>{Num(pair.Kappa)}</td></tr>"));
            html.Append($"<table><caption>Cohen's κ per pair of annotators, {mode}</caption><thead><tr><th scope=\"col\">Annotators</th><th scope=\"col\">Shared items</th><th scope=\"col\">Cohen's κ</th></tr></thead><tbody>{rows}</tbody></table>");
        }
        return html.Append("</section>").ToString();
    }
}
