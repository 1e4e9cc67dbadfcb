using System.Text.Json;

namespace RewardKit.Data;

/// <summary>Conversions between the formats: rankings and ratings to pairs, pairs and ratings to rankings.</summary>
public static class PairConversions
{
    /// <summary>
    /// The pairs a ranked group implies: for each two responses with different ranks the lower rank is chosen
    /// (<see cref="RankingPairs.All"/>), or only responses whose ranks are neighbours in the sorted distinct ranks
    /// (<see cref="RankingPairs.Adjacent"/>). Ties make no pair and are counted in <paramref name="report"/>.
    /// Ids are <c>{id}:{i}&gt;{j}</c> (indices into <see cref="RankedGroup.Responses"/>).
    /// </summary>
    public static IEnumerable<PreferencePair> FromRanking(RankedGroup group, RankingPairs mode = RankingPairs.All, ReadReport? report = null)
    {
        var n = group.Responses.Count;
        var distinct = group.Ranks.Distinct().Order().ToList();
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                int ri = group.Ranks[i], rj = group.Ranks[j];
                if (ri == rj)
                {
                    if (report is not null) report.TiesSkipped++;
                    continue;
                }
                if (mode == RankingPairs.Adjacent && Math.Abs(distinct.IndexOf(ri) - distinct.IndexOf(rj)) != 1) continue;
                var (w, l) = ri < rj ? (i, j) : (j, i);
                if (group.Responses[w] == group.Responses[l]) continue;
                yield return new PreferencePair
                {
                    Prompt = group.Prompt,
                    PromptMessages = group.PromptMessages,
                    Chosen = group.Responses[w],
                    Rejected = group.Responses[l],
                    GoldChosen = group.GoldRewards?[w],
                    GoldRejected = group.GoldRewards?[l],
                    Id = group.Id is null ? null : $"{group.Id}:{w}>{l}",
                    Category = group.Category,
                    Source = group.Source,
                    Extra = group.Extra,
                    LineNumber = group.LineNumber,
                };
            }
    }

    /// <summary>
    /// The pairs implied by ratings of responses to one prompt: every two with different ratings, the higher chosen;
    /// <c>rating_chosen</c>/<c>rating_rejected</c> are kept as extra fields. Equal ratings make no pair and are counted.
    /// </summary>
    public static IEnumerable<PreferencePair> FromRatings(IReadOnlyList<RatedResponse> samePrompt, ReadReport? report = null)
    {
        for (var i = 0; i < samePrompt.Count; i++)
            for (var j = i + 1; j < samePrompt.Count; j++)
            {
                RatedResponse a = samePrompt[i], b = samePrompt[j];
                if (a.Rating == b.Rating || a.Response == b.Response)
                {
                    if (report is not null) report.TiesSkipped++;
                    continue;
                }
                var (w, l) = a.Rating > b.Rating ? (a, b) : (b, a);
                var extra = new OrderedDictionary<string, JsonElement>(StringComparer.Ordinal)
                {
                    ["rating_chosen"] = JsonSerializer.SerializeToElement(w.Rating),
                    ["rating_rejected"] = JsonSerializer.SerializeToElement(l.Rating),
                };
                yield return new PreferencePair
                {
                    Prompt = w.Prompt,
                    PromptMessages = w.PromptMessages,
                    Chosen = w.Response,
                    Rejected = l.Response,
                    GoldChosen = w.GoldReward,
                    GoldRejected = l.GoldReward,
                    Annotator = w.Annotator == l.Annotator ? w.Annotator : null,
                    Id = w.Id is null || l.Id is null ? null : $"{w.Id}>{l.Id}",
                    Category = w.Category,
                    Source = w.Source,
                    Extra = extra,
                    LineNumber = w.LineNumber,
                };
            }
    }

    /// <summary>A pair as a ranked group of two (chosen rank 0, rejected rank 1); pair-only fields go to extras.</summary>
    public static RankedGroup ToRanking(PreferencePair pair)
    {
        var extra = new OrderedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (k, v) in pair.Extra) extra[k] = v;
        if (pair.Margin is { } m) extra["margin"] = JsonSerializer.SerializeToElement(m);
        if (pair.Weight is { } w) extra["weight"] = JsonSerializer.SerializeToElement(w);
        if (pair.Annotator is { } a) extra["annotator"] = JsonSerializer.SerializeToElement(a);
        if (pair.PTrue is { } p) extra["p_true"] = JsonSerializer.SerializeToElement(p);
        if (pair.Labels.Count > 0) extra["labels"] = JsonSerializer.SerializeToElement(pair.Labels);
        return new RankedGroup
        {
            Prompt = pair.Prompt,
            PromptMessages = pair.PromptMessages,
            Responses = [pair.Chosen, pair.Rejected],
            Ranks = [0, 1],
            GoldRewards = pair.GoldChosen is { } gc && pair.GoldRejected is { } gr ? [gc, gr] : null,
            Id = pair.Id,
            Category = pair.Category,
            Source = pair.Source,
            Extra = extra,
            LineNumber = pair.LineNumber,
        };
    }

    /// <summary>Ratings of one prompt as a ranked group: higher rating, better rank; equal ratings share a rank.</summary>
    public static RankedGroup ToRanking(IReadOnlyList<RatedResponse> samePrompt)
    {
        if (samePrompt.Count < 2) throw new ArgumentException($"a ranking needs at least two responses; prompt \"{Shorten(samePrompt[0].Prompt)}\" has {samePrompt.Count} rating(s)", nameof(samePrompt));
        var distinct = samePrompt.Select(r => r.Rating).Distinct().OrderDescending().ToList();
        var first = samePrompt[0];
        var gold = samePrompt.All(r => r.GoldReward.HasValue) ? samePrompt.Select(r => r.GoldReward!.Value).ToList() : null;
        var extra = new OrderedDictionary<string, JsonElement>(StringComparer.Ordinal)
        {
            ["ratings"] = JsonSerializer.SerializeToElement(samePrompt.Select(r => r.Rating).ToList()),
        };
        return new RankedGroup
        {
            Prompt = first.Prompt,
            PromptMessages = first.PromptMessages,
            Responses = samePrompt.Select(r => r.Response).ToList(),
            Ranks = samePrompt.Select(r => distinct.IndexOf(r.Rating)).ToList(),
            GoldRewards = gold,
            Id = first.Id,
            Category = first.Category,
            Source = first.Source,
            Extra = extra,
            LineNumber = first.LineNumber,
        };
    }

    static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
