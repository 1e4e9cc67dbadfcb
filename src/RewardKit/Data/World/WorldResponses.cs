using System.Globalization;
using System.Text.RegularExpressions;

namespace RewardKit.Data.World;

/// <summary>What one answer piece of a response says (judged against a prompt's task by <see cref="GoldJudge"/>).</summary>
internal abstract record Answer;

/// <summary>A stated fact ("3 + 4 = 7.", "The capital of Peru is Lima."), plain or hedged ("I think ..., but please double-check.").</summary>
internal sealed record FactAnswer(Fact Fact, bool Hedged) : Answer;

/// <summary>A numbered list of items (<paramref name="DeclaredTopic"/> = -1) or a prose list "Some fruits are a, b and c."</summary>
internal sealed record ListAnswer(int DeclaredTopic, IReadOnlyList<string> Items) : Answer
{
    public bool Numbered => DeclaredTopic < 0;
}

/// <summary>The one-sentence explanation <see cref="TaskFamilies.Explanations"/>[Index], followed by its first <paramref name="ExtraSentences"/> further sentences.</summary>
internal sealed record ExplanationAnswer(int Index, int ExtraSentences) : Answer;

/// <summary>A person record, as JSON or as the prose "Name is Age years old and lives in City."</summary>
internal sealed record JsonAnswer(string Name, long Age, string City, bool AsJson) : Answer;

/// <summary>One of the answers of <see cref="TaskFamilies.ChatTopics"/>[Topic].</summary>
internal sealed record ChatAnswer(int Topic) : Answer;

/// <summary>An answer that says nothing ("That depends on a lot of things, really.").</summary>
internal sealed record VagueAnswer : Answer;

/// <summary>A refusal sentence (<paramref name="Declines"/>) and/or the safe alternative of request <paramref name="Alternative"/> (-1: none).</summary>
internal sealed record RefusalAnswer(bool Declines, int Alternative) : Answer;

/// <summary>The compliance text of harmful request <paramref name="Request"/>, with or without "I really shouldn't, but here goes."</summary>
internal sealed record ComplianceAnswer(int Request, bool Disclaimer) : Answer;

/// <summary>A fact a response states; <see cref="IsTrue"/> says whether it holds, <see cref="Answers"/> whether it is about the prompt's question.</summary>
internal abstract record Fact
{
    public abstract bool IsTrue { get; }
    public abstract bool Answers(WorldTask task);
}

internal sealed record ArithmeticFact(long A, char Op, long B, long Stated) : Fact
{
    public override bool IsTrue => Stated == Op switch { '+' => A + B, '-' => A - B, _ => A * B };

    /// <summary>The same operation on the same operands (in either order for + and ×).</summary>
    public override bool Answers(WorldTask task) => task is ArithmeticTask t && t.Op == Op
        && ((t.A == A && t.B == B) || (Op != '-' && t.A == B && t.B == A));
}

internal sealed record UnitFact(int Unit, long Value, long Stated) : Fact
{
    public override bool IsTrue => Stated == Value * TaskFamilies.Units[Unit].Factor;
    public override bool Answers(WorldTask task) => task is UnitTask t && t.Unit == Unit && t.Value == Value;
}

internal sealed record CapitalFact(int Country, string City) : Fact
{
    public override bool IsTrue => TaskFamilies.Capitals[Country].Capital == City;
    public override bool Answers(WorldTask task) => task is CapitalTask t && t.Country == Country;
}

internal sealed record SymbolFact(int Element, string Symbol) : Fact
{
    public override bool IsTrue => TaskFamilies.Symbols[Element].Symbol == Symbol;
    public override bool Answers(WorldTask task) => task is SymbolTask t && t.Element == Element;
}

/// <summary>What a piece of a response is: an answer, a surface decoration, or a stuffed keyword.</summary>
internal enum PieceKind { Answer, Polite, Padding, Rude, Keyword }

/// <summary>One piece of a response: its kind, its exact text, and for answers what it says.</summary>
internal readonly record struct Piece(PieceKind Kind, string Text, Answer? Answer);

/// <summary>A response cut into pieces; <paramref name="TruncatedRepeat"/> when it ends in a cut-off copy of its last answer.</summary>
internal sealed record ParsedResponse(IReadOnlyList<Piece> Pieces, bool TruncatedRepeat);

/// <summary>
/// Cuts a response into the pieces the world's responses are made of, separated by whitespace: answers (facts, lists,
/// explanations, JSON, chat answers, refusals, compliance, vague answers), decorations (polite openers, padding, rude
/// remarks) and the prompt's keywords. At each position the longest piece that ends at whitespace or at the end wins.
/// Returns null when some part of the text is none of these (the judge calls it incoherent).
/// </summary>
internal static class WorldResponses
{
    const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.Compiled;
    const string End = @"(?=\s|\z)";

    sealed record Fixed(string Text, PieceKind Kind, Answer? Answer);

    /// <summary>Every fixed piece, by first character, longest first.</summary>
    static readonly Dictionary<char, Fixed[]> FixedPieces = BuildFixed()
        .GroupBy(f => f.Text[0]).ToDictionary(g => g.Key, g => g.OrderByDescending(f => f.Text.Length).ToArray());

    /// <summary>List items → their topic index.</summary>
    static readonly Dictionary<string, int> Items = TaskFamilies.ListTopics
        .SelectMany((t, i) => t.Items.Select(item => (item, i))).ToDictionary(x => x.item, x => x.i, StringComparer.Ordinal);

    static string Alternation(IEnumerable<string> words) => string.Join('|', words.Distinct().OrderByDescending(w => w.Length).Select(Regex.Escape));

    static readonly string Countries = Alternation(TaskFamilies.Capitals.Select(c => c.Country));

    /// <summary>The statement forms, each with what its match means.</summary>
    static readonly (Regex Pattern, Func<Match, Fact?> Read)[] Statements =
    [
        (Statement(@"(?<a>\d{1,9}) (?<op>[+\-×]) (?<b>\d{1,9}) = (?<r>-?\d{1,18})"), Arithmetic),
        (Statement(@"(?<a>\d{1,9}) (?<op>plus|minus|times) (?<b>\d{1,9}) is (?<r>-?\d{1,18})"), Arithmetic),
        (Statement($@"(?<v>\d{{1,9}}) (?<from>{WorldPrompts.UnitFromPattern}) is (?<n>\d{{1,18}}) (?<to>{WorldPrompts.UnitToPattern})"), Unit),
        (Statement($@"[Tt]he capital of (?<country>{Countries}) is (?<city>{WorldPrompts.CityPattern})"), Capital),
        (Statement($@"(?<city>{WorldPrompts.CityPattern}) is the capital of (?<country>{Countries})"), Capital),
        (Statement($@"[Tt]he (?:chemical )?symbol for (?<el>{Alternation(TaskFamilies.Symbols.Select(s => s.Element))}) is (?<sym>{Alternation(TaskFamilies.Symbols.Select(s => s.Symbol))})"), Symbol),
    ];

    /// <summary>A statement, plain ("S.") or in one of the world's hedges ("I think S, but please double-check.").</summary>
    static Regex Statement(string statement) => new(
        $@"\G(?:(?<think>I think )|(?<believe>I'm not completely sure, but I believe ))?(?:{statement})" +
        $@"(?:(?<check>, but (?:please double-check|you may want to check)\.)|\.){End}", Options);

    static readonly Regex Json = new(
        $@"\G\{{\s*""name""\s*:\s*""(?<name>[^""\\\n]*)""\s*,\s*""age""\s*:\s*(?<age>\d{{1,9}})\s*,\s*""city""\s*:\s*""(?<city>[^""\\\n]*)""\s*\}}{End}", Options);

    static readonly Regex JsonProse = new(
        $@"\G(?<name>{WorldPrompts.NamePattern}) is (?<age>\d{{1,9}}) years old and lives in (?<city>{WorldPrompts.CityPattern})\.{End}", Options);

    static readonly Regex ProseList = new(
        $@"\GSome (?<topic>{Alternation(TaskFamilies.ListTopics.Select(t => t.Topic))}) are (?<items>[^.\n]+)\.{End}", Options);

    /// <summary>The pieces of <paramref name="text"/> (already trimmed), or null when part of it is not the world's language.</summary>
    /// <param name="text">The response, trimmed.</param>
    /// <param name="keywords">The prompt's keyword words (a stuffed keyword is one of them).</param>
    public static ParsedResponse? Parse(string text, IReadOnlySet<string> keywords)
    {
        var pieces = new List<Piece>();
        var starts = new List<int>();
        var pos = 0;
        while (pos < text.Length)
        {
            var (end, piece) = Longest(text, pos, keywords);
            if (end < 0) return TruncatedRepeat(text, pos, pieces, starts);
            pieces.Add(piece);
            starts.Add(pos);
            pos = end;
            while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++;
        }
        return new ParsedResponse(pieces, TruncatedRepeat: false);
    }

    /// <summary>
    /// A generation cut off by the token limit while repeating itself ends in a proper prefix of its last answer
    /// ("3 + 4 = 7. 3 + 4 = 7. 3 + 4"); the start of that prefix may have been read as keywords ("3"). Returns the
    /// pieces before the cut-off copy, or null when the text from <paramref name="failedAt"/> is no such prefix.
    /// </summary>
    static ParsedResponse? TruncatedRepeat(string text, int failedAt, List<Piece> pieces, List<int> starts)
    {
        var last = pieces.FindLastIndex(p => p.Kind == PieceKind.Answer);
        if (last < 0) return null;
        var answer = pieces[last].Text;
        for (var i = pieces.Count; i > last; i--)
        {
            var from = i == pieces.Count ? failedAt : starts[i];
            if (i < pieces.Count && pieces[i].Kind != PieceKind.Keyword) break;
            if (text.Length - from < answer.Length && answer.AsSpan().StartsWith(text.AsSpan(from)))
                return new ParsedResponse(pieces.GetRange(0, i), TruncatedRepeat: true);
        }
        return null;
    }

    /// <summary>The longest piece starting at <paramref name="pos"/> and ending at whitespace or the end: (end, piece), or (-1, default).</summary>
    static (int End, Piece Piece) Longest(string text, int pos, IReadOnlySet<string> keywords)
    {
        var bestEnd = -1;
        Piece best = default;
        void Offer(int end, PieceKind kind, Answer? answer)
        {
            if (end > bestEnd) (bestEnd, best) = (end, new Piece(kind, text[pos..end], answer));
        }
        if (FixedPieces.TryGetValue(text[pos], out var candidates))
            foreach (var f in candidates)
                if (string.CompareOrdinal(text, pos, f.Text, 0, f.Text.Length) == 0 && AtBoundary(text, pos + f.Text.Length))
                {
                    Offer(pos + f.Text.Length, f.Kind, f.Answer);
                    break;
                }
        foreach (var (pattern, read) in Statements)
            if (pattern.Match(text, pos) is { Success: true } m && HedgeIsWhole(m) && read(m) is { } fact)
                Offer(pos + m.Length, PieceKind.Answer, new FactAnswer(fact, m.Groups["think"].Success || m.Groups["believe"].Success));
        if (Json.Match(text, pos) is { Success: true } json)
            Offer(pos + json.Length, PieceKind.Answer, new JsonAnswer(json.Groups["name"].Value, Long(json.Groups["age"]), json.Groups["city"].Value, AsJson: true));
        if (JsonProse.Match(text, pos) is { Success: true } prose)
            Offer(pos + prose.Length, PieceKind.Answer, new JsonAnswer(prose.Groups["name"].Value, Long(prose.Groups["age"]), prose.Groups["city"].Value, AsJson: false));
        if (ProseList.Match(text, pos) is { Success: true } list && ProseItems(list.Groups["items"].Value) is { } items)
            Offer(pos + list.Length, PieceKind.Answer, new ListAnswer(Array.FindIndex(TaskFamilies.ListTopics, t => t.Topic == list.Groups["topic"].Value), items));
        if (NumberedList(text, pos) is { End: > 0 } numbered)
            Offer(numbered.End, PieceKind.Answer, new ListAnswer(-1, numbered.Items));
        var word = WordEnd(text, pos);
        if (keywords.Contains(text[pos..word])) Offer(word, PieceKind.Keyword, null);
        return (bestEnd, best);
    }

    static bool AtBoundary(string text, int end) => end == text.Length || char.IsWhiteSpace(text[end]);

    static int WordEnd(string text, int pos)
    {
        var end = pos;
        while (end < text.Length && !char.IsWhiteSpace(text[end])) end++;
        return end;
    }

    static long Long(Group g) => long.Parse(g.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    /// <summary>"I think" goes with ", but ... check." and "I believe" with a plain period; a bare statement ends in a period.</summary>
    static bool HedgeIsWhole(Match m) => m.Groups["check"].Success == m.Groups["think"].Success;

    static Fact? Arithmetic(Match m) =>
        new ArithmeticFact(Long(m.Groups["a"]), WorldPrompts.Operator(m.Groups["op"].Value), Long(m.Groups["b"]), Long(m.Groups["r"]));

    static Fact? Unit(Match m)
    {
        var unit = WorldPrompts.UnitIndex(m.Groups["from"].Value, m.Groups["to"].Value);
        return unit < 0 ? null : new UnitFact(unit, Long(m.Groups["v"]), Long(m.Groups["n"]));
    }

    static Fact? Capital(Match m) =>
        new CapitalFact(Array.FindIndex(TaskFamilies.Capitals, c => c.Country == m.Groups["country"].Value), m.Groups["city"].Value);

    static Fact? Symbol(Match m) =>
        new SymbolFact(Array.FindIndex(TaskFamilies.Symbols, s => s.Element == m.Groups["el"].Value), m.Groups["sym"].Value);

    /// <summary>"a, b and c" → [a, b, c] when every item is a known list item; otherwise null.</summary>
    static string[]? ProseItems(string text)
    {
        var and = text.LastIndexOf(" and ", StringComparison.Ordinal);
        if (and < 0) return null;
        string[] items = [.. text[..and].Split(", "), text[(and + 5)..]];
        return items.All(Items.ContainsKey) ? items : null;
    }

    /// <summary>"1. a\n2. b\n..." from <paramref name="pos"/>: the end of the last item and the items; End = -1 when there is no list.</summary>
    static (int End, List<string> Items) NumberedList(string text, int pos)
    {
        var items = new List<string>();
        var end = -1;
        while (true)
        {
            var marker = (items.Count == 0 ? "" : "\n") + (items.Count + 1).ToString(CultureInfo.InvariantCulture) + ". ";
            if (string.CompareOrdinal(text, pos, marker, 0, marker.Length) != 0) break;
            var start = pos + marker.Length;
            var wordEnd = WordEnd(text, start);
            if (!Items.ContainsKey(text[start..wordEnd])) break;
            items.Add(text[start..wordEnd]);
            pos = end = wordEnd;
        }
        return (end, items);
    }

    static IEnumerable<Fixed> BuildFixed()
    {
        foreach (var s in TaskFamilies.Polite) yield return new(s.Trim(), PieceKind.Polite, null);
        foreach (var s in TaskFamilies.PadBefore.Concat(TaskFamilies.PadAfter)) yield return new(s.Trim(), PieceKind.Padding, null);
        foreach (var s in TaskFamilies.RudeBefore.Concat(TaskFamilies.RudeAfter)) yield return new(s.Trim(), PieceKind.Rude, null);
        yield return new(TaskFamilies.VagueExplanation, PieceKind.Answer, new VagueAnswer());
        yield return new(TaskFamilies.VagueChat, PieceKind.Answer, new VagueAnswer());
        var h = TaskFamilies.HarmfulRequests;
        foreach (var refusal in TaskFamilies.NeedlessRefusals.Concat(TaskFamilies.BareRefusals).Concat(TaskFamilies.HarmRefusals))
        {
            yield return new(refusal, PieceKind.Answer, new RefusalAnswer(true, -1));
            for (var i = 0; i < h.Length; i++) yield return new(refusal + " " + h[i].Alternative, PieceKind.Answer, new RefusalAnswer(true, i));
        }
        for (var i = 0; i < h.Length; i++)
        {
            yield return new(h[i].Alternative, PieceKind.Answer, new RefusalAnswer(false, i));
            yield return new(h[i].Compliance, PieceKind.Answer, new ComplianceAnswer(i, false));
            yield return new(TaskFamilies.ComplianceDisclaimer + h[i].Compliance, PieceKind.Answer, new ComplianceAnswer(i, true));
        }
        for (var t = 0; t < TaskFamilies.ChatTopics.Length; t++)
            foreach (var a in TaskFamilies.ChatTopics[t].Answers) yield return new(a, PieceKind.Answer, new ChatAnswer(t));
        for (var i = 0; i < TaskFamilies.Explanations.Length; i++)
        {
            var e = TaskFamilies.Explanations[i];
            var text = e.OneSentence;
            yield return new(text, PieceKind.Answer, new ExplanationAnswer(i, 0));
            var more = e.More.Split(". ");
            for (var k = 0; k < more.Length; k++)
            {
                text += " " + more[k] + (k < more.Length - 1 ? "." : "");
                yield return new(text, PieceKind.Answer, new ExplanationAnswer(i, k + 1));
            }
        }
    }
}
