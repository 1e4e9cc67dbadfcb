using System.Globalization;
using Microsoft.AspNetCore.Http;
using RewardKit.Annotation;

namespace RewardKit.Server.Annotation;

/// <summary>A submitted answer form, checked: the answer and reason, or the status and message of what is wrong.</summary>
/// <param name="Answer">The answer, when the form is valid.</param>
/// <param name="Reason">The reason (CRLF made LF), or null.</param>
/// <param name="Status">200 when valid; else 400 (bad field) or 413 (field too long).</param>
/// <param name="Problem">What is wrong and how to fix it, or null.</param>
public sealed record AnswerForm(AnnotationAnswer? Answer, string? Reason, int Status, string? Problem)
{
    /// <summary>Reads the form of <paramref name="task"/>'s mode: <c>choice</c> + <c>strength</c>, <c>rank_i</c> or <c>rating_i</c>, and <c>reason</c>.</summary>
    public static AnswerForm Parse(AnnotationTask task, IFormCollection form)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(form);
        int n = task.Responses.Count;
        var fields = task.Mode switch
        {
            AnnotationMode.Pairwise => new List<string> { "choice", "strength" },
            AnnotationMode.Ranking => Enumerable.Range(0, n).Select(i => $"rank_{i}").ToList(),
            _ => Enumerable.Range(0, n).Select(i => $"rating_{i}").ToList(),
        };
        fields.AddRange([AnnotationSessions.CsrfField, "reason"]);
        foreach (var (key, values) in form)
        {
            if (!fields.Contains(key, StringComparer.Ordinal))
                return Bad($"unknown field '{Clip(key)}'; a {AnnotationModes.Name(task.Mode)} form has {string.Join(", ", fields)}.");
            if (values.Count != 1) return Bad($"field '{key}' was sent {values.Count} times; send it once.");
        }
        var reason = form["reason"].ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
        if (reason.Length > AnnotationLimits.MaxReasonLength)
            return new AnswerForm(null, null, 413, $"reason is {reason.Length} characters; the limit is {AnnotationLimits.MaxReasonLength}. Shorten it and submit again.");
        if (reason.Any(c => char.IsControl(c) && c is not '\n' and not '\t'))
            return Bad("reason contains control characters; write plain text.");
        var (answer, problem) = task.Mode switch
        {
            AnnotationMode.Pairwise => Pairwise(form),
            AnnotationMode.Ranking => Numbers(form, n, "rank", "give each of the responses a rank from 1 (best) to " + n, v => new AnnotationAnswer { Ranks = v }),
            _ => Numbers(form, n, "rating", $"rate each response from {AnnotationLimits.MinRating} to {AnnotationLimits.MaxRating}", v => new AnnotationAnswer { Ratings = v }),
        };
        problem ??= answer!.Problem(task);
        return problem is null ? new AnswerForm(answer, reason.Trim().Length == 0 ? null : reason.Trim(), 200, null) : Bad(problem);
    }

    static AnswerForm Bad(string problem) => new(null, null, 400, problem);

    static string Clip(string text) => text.Length <= 64 ? text : text[..64] + "…";

    static (AnnotationAnswer?, string?) Pairwise(IFormCollection form)
    {
        var text = form["choice"].ToString();
        PairChoice? choice = text switch
        {
            "A" or "a" => PairChoice.A,
            "B" or "b" => PairChoice.B,
            "tie" or "Tie" or "TIE" => PairChoice.Tie,
            _ => null,
        };
        if (text.Length == 0) return (null, "choice is missing; pick A, B or tie.");
        if (choice is null) return (null, $"choice is '{Clip(text)}'; pick A, B or tie.");
        if (choice == PairChoice.Tie) return (new AnnotationAnswer { Choice = PairChoice.Tie }, null);
        var strength = form["strength"].ToString();
        if (strength.Length == 0) return (null, "strength is missing; pick 1 (slightly), 2 (clearly) or 3 (much better).");
        if (!int.TryParse(strength, NumberStyles.None, CultureInfo.InvariantCulture, out var s))
            return (null, $"strength is '{Clip(strength)}'; pick 1 (slightly), 2 (clearly) or 3 (much better).");
        return (new AnnotationAnswer { Choice = choice, Strength = s }, null);
    }

    static (AnnotationAnswer?, string?) Numbers(IFormCollection form, int n, string prefix, string fix, Func<int[], AnnotationAnswer> make)
    {
        var values = new int[n];
        for (int i = 0; i < n; i++)
        {
            var text = form[$"{prefix}_{i}"].ToString();
            if (text.Length == 0) return (null, $"{prefix}_{i} is missing; {fix}.");
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
                return (null, $"{prefix}_{i} is '{Clip(text)}'; {fix}.");
        }
        return (make(values), null);
    }
}
