using System.Globalization;
using System.Text.RegularExpressions;

namespace RewardKit.Data.World;

/// <summary>What a world prompt asks, recovered from its text alone (see <see cref="WorldPrompts.TryParse"/>).</summary>
/// <param name="Family">The task family, as in the records' <c>category</c>.</param>
internal abstract record WorldTask(string Family)
{
    /// <summary>The words the generator's keyword-stuffed variant repeats for this prompt (<c>TaskFamilies</c>' keywords).</summary>
    public abstract string Keywords { get; }

    /// <summary>The kind of this prompt's best answer: "helpful_refusal" for a harmful request, "correct" otherwise.</summary>
    public virtual string BestKind => "correct";
}

/// <summary>"What is A op B?" (op is +, - or ×).</summary>
internal sealed record ArithmeticTask(long A, char Op, long B) : WorldTask("arithmetic")
{
    public override string Keywords => $"{A} {B} answer";
}

/// <summary>"How many To are in Value From?" for <see cref="TaskFamilies.Units"/>[Unit].</summary>
internal sealed record UnitTask(int Unit, long Value) : WorldTask("unit_conversion")
{
    public override string Keywords => $"{TaskFamilies.Units[Unit].From} {TaskFamilies.Units[Unit].To}";
}

/// <summary>"What is the capital of <see cref="TaskFamilies.Capitals"/>[Country]?"</summary>
internal sealed record CapitalTask(int Country) : WorldTask("factual")
{
    public override string Keywords => $"capital {TaskFamilies.Capitals[Country].Country}";
}

/// <summary>"What is the chemical symbol for <see cref="TaskFamilies.Symbols"/>[Element]?"</summary>
internal sealed record SymbolTask(int Element) : WorldTask("factual")
{
    public override string Keywords => $"symbol {TaskFamilies.Symbols[Element].Element}";
}

/// <summary>"List Count items of <see cref="TaskFamilies.ListTopics"/>[Topic]" as a numbered list.</summary>
internal sealed record ListTask(int Topic, int Count) : WorldTask("format")
{
    public override string Keywords => TaskFamilies.ListTopics[Topic].Topic;
}

/// <summary>"In one sentence, explain <see cref="TaskFamilies.Explanations"/>[Index]."</summary>
internal sealed record ExplanationTask(int Index) : WorldTask("format")
{
    public override string Keywords => TaskFamilies.Explanations[Index].Question;
}

/// <summary>"Return JSON with keys name, age and city for: Name is Age and lives in City."</summary>
internal sealed record JsonTask(string Name, long Age, string City) : WorldTask("format")
{
    public override string Keywords => TaskFamilies.JsonKeywords;
}

/// <summary>A harmful request, <see cref="TaskFamilies.HarmfulRequests"/>[Request].</summary>
internal sealed record HarmfulTask(int Request) : WorldTask("harmful")
{
    public override string Keywords => TaskFamilies.HarmfulKeywords;
    public override string BestKind => "helpful_refusal";
}

/// <summary>A chat question, <see cref="TaskFamilies.ChatTopics"/>[Topic].</summary>
internal sealed record ChatTask(int Topic) : WorldTask("chat")
{
    public override string Keywords => TaskFamilies.ChatKeywords(TaskFamilies.ChatTopics[Topic].Question);
}

/// <summary>
/// Parses the prompts the world's <c>TaskFamilies</c> write: an optional opener ("Hi! ", "Omar asks: ") and one of
/// each family's question templates, checked against the world's tables (countries, units, topics, requests).
/// Numbers are read, not looked up, so "What is 12 × 31?" parses although the world only asks about 2..9.
/// The templates are restated here as patterns; <c>GoldJudgeTests</c> ties them to the generator (every generated
/// prompt must parse).
/// </summary>
internal static class WorldPrompts
{
    const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.Compiled;

    /// <summary>Every opener the generator writes, longest first ("" last).</summary>
    static readonly string[] Openers = TaskFamilies.Openers
        .SelectMany(o => o.Contains("{name}", StringComparison.Ordinal) ? TaskFamilies.Names.Select(n => o.Replace("{name}", n, StringComparison.Ordinal)) : [o])
        .Distinct().OrderByDescending(o => o.Length).ToArray();

    /// <summary>Prompts of a finite set (factual, explanation, harmful, chat), text → task; chat prompts have no opener.</summary>
    static readonly Dictionary<string, WorldTask> Questions = BuildQuestions();
    static readonly Dictionary<string, WorldTask> ChatPrompts = BuildChatPrompts();

    static string Alternation(IEnumerable<string> words) => string.Join('|', words.Distinct().OrderByDescending(w => w.Length).Select(Regex.Escape));

    internal static readonly string UnitFromPattern = Alternation(TaskFamilies.Units.Select(u => u.From));
    internal static readonly string UnitToPattern = Alternation(TaskFamilies.Units.Select(u => u.To));
    internal static readonly string NamePattern = Alternation(TaskFamilies.Names);
    internal static readonly string CityPattern = Alternation(TaskFamilies.Capitals.Select(c => c.Capital));
    static readonly string TopicPattern = Alternation(TaskFamilies.ListTopics.Select(t => t.Topic));

    static readonly Regex[] Arithmetic =
    [
        new(@"^What is (?<a>\d{1,9}) (?<op>[+\-×]) (?<b>\d{1,9})\?$", Options),
        new(@"^Compute (?<a>\d{1,9}) (?<op>[+\-×]) (?<b>\d{1,9})\.$", Options),
        new(@"^How much is (?<a>\d{1,9}) (?<op>plus|minus|times) (?<b>\d{1,9})\?$", Options),
        new(@"^Calculate (?<a>\d{1,9}) (?<op>[+\-×]) (?<b>\d{1,9}) for me\.$", Options),
    ];

    static readonly Regex[] UnitConversion =
    [
        new($@"^How many (?<to>{UnitToPattern}) are in (?<v>\d{{1,9}}) (?<from>{UnitFromPattern})\?$", Options),
        new($@"^Convert (?<v>\d{{1,9}}) (?<short>{Alternation(TaskFamilies.Units.Select(u => u.FromShort))}) to (?<to>{UnitToPattern})\.$", Options),
        new($@"^What is (?<v>\d{{1,9}}) (?<from>{UnitFromPattern}) in (?<to>{UnitToPattern})\?$", Options),
    ];

    static readonly Regex[] Lists =
    [
        new($@"^List (?<n>\d{{1,2}}) (?<topic>{TopicPattern})\.$", Options),
        new($@"^Name (?<n>\d{{1,2}}) (?<topic>{TopicPattern}) as a numbered list\.$", Options),
        new($@"^Give me a list of (?<n>\d{{1,2}}) (?<topic>{TopicPattern})\.$", Options),
    ];

    static readonly Regex[] Json =
    [
        new($@"^Return JSON with keys name, age and city for: (?<name>{NamePattern}) is (?<age>\d{{1,9}}) and lives in (?<city>{CityPattern})\.$", Options),
        new($@"^As JSON with fields name, age, city: (?<name>{NamePattern}), (?<age>\d{{1,9}}) years old, from (?<city>{CityPattern})\.$", Options),
    ];

    static readonly Regex SingleTurn = new(@"^\s*Human: (?<q>.*)\n\nAssistant:\s*$", Options | RegexOptions.Singleline);

    /// <summary>The task of <paramref name="prompt"/>, or false when it is not a prompt the world writes.</summary>
    public static bool TryParse(string prompt, out WorldTask task)
    {
        var text = prompt.Trim();
        // A prompt given as one user message is flattened to "\n\nHuman: ...\n\nAssistant:" by ChatTemplate.
        if (SingleTurn.Match(text) is { Success: true } turn && !turn.Groups["q"].Value.Contains("\n\nHuman:", StringComparison.Ordinal))
            text = turn.Groups["q"].Value.Trim();
        if (ChatPrompts.TryGetValue(text, out task!)) return true;
        foreach (var opener in Openers)
            if (text.StartsWith(opener, StringComparison.Ordinal) && TryQuestion(text[opener.Length..], out task)) return true;
        task = null!;
        return false;
    }

    static bool TryQuestion(string q, out WorldTask task)
    {
        if (Questions.TryGetValue(q, out task!)) return true;
        task = ParseArithmetic(q) ?? ParseUnit(q) ?? ParseList(q) ?? ParseJson(q)!;
        return task is not null;
    }

    /// <summary>The operator a symbol or word stands for: '+', '-' or '×'.</summary>
    internal static char Operator(string symbolOrWord) => symbolOrWord switch
    {
        "+" or "plus" => '+',
        "-" or "minus" => '-',
        _ => '×',
    };

    static long Long(Group g) => long.Parse(g.Value, NumberStyles.None, CultureInfo.InvariantCulture);

    static WorldTask? ParseArithmetic(string q)
    {
        foreach (var r in Arithmetic)
            if (r.Match(q) is { Success: true } m)
                return new ArithmeticTask(Long(m.Groups["a"]), Operator(m.Groups["op"].Value), Long(m.Groups["b"]));
        return null;
    }

    static WorldTask? ParseUnit(string q)
    {
        foreach (var r in UnitConversion)
        {
            var m = r.Match(q);
            if (!m.Success) continue;
            var to = m.Groups["to"].Value;
            var unit = m.Groups["short"].Success
                ? Array.FindIndex(TaskFamilies.Units, u => u.FromShort == m.Groups["short"].Value && u.To == to)
                : UnitIndex(m.Groups["from"].Value, to);
            return unit < 0 ? null : new UnitTask(unit, Long(m.Groups["v"]));
        }
        return null;
    }

    /// <summary>The index of the unit pair (from, to) in <see cref="TaskFamilies.Units"/>, or -1.</summary>
    internal static int UnitIndex(string from, string to) => Array.FindIndex(TaskFamilies.Units, u => u.From == from && u.To == to);

    static WorldTask? ParseList(string q)
    {
        foreach (var r in Lists)
            if (r.Match(q) is { Success: true } m)
            {
                var n = (int)Long(m.Groups["n"]);
                return n < 1 ? null : new ListTask(Array.FindIndex(TaskFamilies.ListTopics, t => t.Topic == m.Groups["topic"].Value), n);
            }
        return null;
    }

    static WorldTask? ParseJson(string q)
    {
        foreach (var r in Json)
            if (r.Match(q) is { Success: true } m)
                return new JsonTask(m.Groups["name"].Value, Long(m.Groups["age"]), m.Groups["city"].Value);
        return null;
    }

    static Dictionary<string, WorldTask> BuildQuestions()
    {
        var d = new Dictionary<string, WorldTask>(StringComparer.Ordinal);
        for (var i = 0; i < TaskFamilies.Capitals.Length; i++)
        {
            var c = TaskFamilies.Capitals[i].Country;
            foreach (var q in new[] { $"What is the capital of {c}?", $"Which city is the capital of {c}?", $"Name the capital city of {c}." })
                d[q] = new CapitalTask(i);
        }
        for (var i = 0; i < TaskFamilies.Symbols.Length; i++)
        {
            var e = TaskFamilies.Symbols[i].Element;
            foreach (var q in new[] { $"What is the chemical symbol for {e}?", $"Which symbol stands for {e} on the periodic table?" })
                d[q] = new SymbolTask(i);
        }
        for (var i = 0; i < TaskFamilies.Explanations.Length; i++)
        {
            var e = TaskFamilies.Explanations[i].Question;
            foreach (var q in new[] { $"In one sentence, explain {e}.", $"Explain {e} in a single sentence.", $"Answer in one sentence: {e}?" })
                d[q] = new ExplanationTask(i);
        }
        for (var i = 0; i < TaskFamilies.HarmfulRequests.Length; i++)
            foreach (var frame in TaskFamilies.HarmfulFrames)
            {
                var request = string.Format(CultureInfo.InvariantCulture, frame, TaskFamilies.HarmfulRequests[i].Request);
                d[char.ToUpperInvariant(request[0]) + request[1..]] = new HarmfulTask(i);
            }
        return d;
    }

    static Dictionary<string, WorldTask> BuildChatPrompts()
    {
        var d = new Dictionary<string, WorldTask>(StringComparer.Ordinal);
        for (var i = 0; i < TaskFamilies.ChatTopics.Length; i++)
        {
            var q = TaskFamilies.ChatTopics[i].Question;
            foreach (var p in new[] { q, $"{q} Keep it short, please.", $"Hey! {q}" }.Concat(TaskFamilies.Names.Select(n => $"Hi, I'm {n}. {q}")))
                d[p] = new ChatTask(i);
        }
        return d;
    }
}
