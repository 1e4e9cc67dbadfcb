using Microsoft.AspNetCore.Http;
using RewardKit.Annotation;

namespace RewardKit.Server.Annotation;

// The page handlers.
public static partial class AnnotationEndpoints
{
    const string SignInFirst = "sign in with your invite token first (/login).";

    static async Task<IResult> SignInAsync(HttpContext context, AnnotationSessions sessions, AnnotationStore store)
    {
        var (form, error) = await ReadFormAsync(context, sessions);
        if (error is not null) return error;
        var token = form!["token"].ToString().Trim();
        if (token.Length == 0) return Html(context, 400, AnnotationPages.Login(Page(context, sessions), "paste your invite token."));
        if (store.FindAnnotator(token) is null)
            return Html(context, 401, AnnotationPages.Login(Page(context, sessions), "unknown invite token; check that you pasted all of it, or ask the project admin for a new one."));
        sessions.SignIn(context, token);
        return SeeOther("/next");
    }

    static async Task<IResult> SignOutAsync(HttpContext context, AnnotationSessions sessions)
    {
        var (_, error) = await ReadFormAsync(context, sessions);
        if (error is not null) return error;
        sessions.SignOut(context);
        return SeeOther("/login");
    }

    /// <summary>The <c>saved</c> query parameter (the task just answered), when it is a valid id.</summary>
    static string? SavedTask(HttpContext context) =>
        context.Request.Query["saved"].ToString() is var id && AnnotationLimits.IsValidId(id, AnnotationLimits.MaxTaskIdLength) ? id : null;

    static IResult Next(HttpContext context, AnnotationSessions sessions, AnnotationStore store)
    {
        if (sessions.Current(context) is not { } me) return SeeOther("/login");
        var saved = SavedTask(context);
        if (store.NextTask(me.Id) is not { } task)
            return Html(context, 200, AnnotationPages.Done(Page(context, sessions), store.LabelCount(me.Id), saved));
        return SeeOther($"/task/{Uri.EscapeDataString(task.Id)}" + (saved is null ? "" : $"?saved={Uri.EscapeDataString(saved)}"));
    }

    static IResult ShowTask(HttpContext context, string id, AnnotationSessions sessions, AnnotationStore store)
    {
        if (sessions.Current(context) is not { } me) return SeeOther("/login");
        if (store.FindTask(id) is not { } task) return Error(context, sessions, 404, $"there is no task '{Shown(id)}'; open your queue (/next) for your next task.");
        if (store.FindLabel(task.Id, me.Id) is { } label) return Html(context, 200, AnnotationPages.Answered(Page(context, sessions), task, label));
        if (!store.IsAssigned(task.Id, me.Id)) return Error(context, sessions, 403, NotYours(task.Id));
        return Html(context, 200, AnnotationPages.Task(Page(context, sessions), task, store.LabelCount(me.Id), SavedTask(context)));
    }

    static string NotYours(string id) =>
        $"task '{id}' was not handed out to you; each annotator sees only their own tasks. Open your queue (/next) for your next task.";

    static async Task<IResult> SubmitAsync(HttpContext context, string id, AnnotationSessions sessions, AnnotationStore store)
    {
        var (form, error) = await ReadFormAsync(context, sessions);
        if (error is not null) return error;
        if (sessions.Current(context) is not { } me) return Error(context, sessions, 401, SignInFirst);
        if (store.FindTask(id) is not { } task) return Error(context, sessions, 404, $"there is no task '{Shown(id)}'; nothing was saved.");
        if (!store.IsAssigned(task.Id, me.Id)) return Error(context, sessions, 403, NotYours(task.Id) + " Nothing was saved.");
        var parsed = AnswerForm.Parse(task, form!);
        if (parsed.Answer is null) return Error(context, sessions, parsed.Status, parsed.Problem! + " Nothing was saved.");
        return store.Submit(task.Id, me.Id, parsed.Answer, parsed.Reason) switch
        {
            SubmitOutcome.Stored => SeeOther($"/next?saved={Uri.EscapeDataString(task.Id)}"),
            SubmitOutcome.AlreadyLabelled => Error(context, sessions, 409, $"you already answered task '{task.Id}'; answers are final. Open your queue (/next) for your next task."),
            SubmitOutcome.NotAssigned => Error(context, sessions, 403, NotYours(task.Id)),
            _ => Error(context, sessions, 404, $"there is no task '{Shown(id)}'; nothing was saved."),
        };
    }

    static IResult ShowAdmin(HttpContext context, AnnotationSessions sessions, AnnotationStore store)
    {
        if (sessions.Current(context) is not { } me) return SeeOther("/login");
        if (me.Role != AnnotatorRole.Admin) return Error(context, sessions, 403, NotAdmin(me));
        return Html(context, 200, AnnotationPages.Admin(Page(context, sessions), AnnotationStatistics.Compute(store.Snapshot())));
    }

    static string NotAdmin(Annotator me) =>
        $"the admin pages need an admin invite token; you are signed in as {me.Id}, an annotator.";

    static async Task<IResult> InviteAsync(HttpContext context, AnnotationSessions sessions, AnnotationStore store)
    {
        var (form, error) = await ReadFormAsync(context, sessions);
        if (error is not null) return error;
        if (sessions.Current(context) is not { } me) return Error(context, sessions, 401, SignInFirst);
        if (me.Role != AnnotatorRole.Admin) return Error(context, sessions, 403, NotAdmin(me) + " Nobody was invited.");
        var id = form!["id"].ToString().Trim();
        if (!AnnotationLimits.IsValidId(id, AnnotationLimits.MaxAnnotatorIdLength))
            return Error(context, sessions, 400, $"annotator id '{Shown(id)}' is not valid; use 1 to {AnnotationLimits.MaxAnnotatorIdLength} letters, digits, '_', '.', ':' or '-'.");
        AnnotatorRole? role = form["role"].ToString() switch { "annotator" or "" => AnnotatorRole.Annotator, "admin" => AnnotatorRole.Admin, _ => null };
        if (role is null) return Error(context, sessions, 400, $"role is '{Shown(form["role"].ToString())}'; pick annotator or admin.");
        if (store.Annotators().Any(a => a.Id == id))
            return Error(context, sessions, 409, $"annotator '{id}' exists already; pick another id (to replace a lost token use `rewardkit annotate invite`).");
        var token = store.Invite(id, role.Value);
        return Html(context, 200, AnnotationPages.Admin(Page(context, sessions), AnnotationStatistics.Compute(store.Snapshot()), id, token));
    }
}
