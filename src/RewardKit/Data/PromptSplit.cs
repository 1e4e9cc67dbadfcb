namespace RewardKit.Data;

/// <summary>One output file of <see cref="PromptSplit.Split"/>.</summary>
/// <param name="Name">"train", "validation" or "test".</param>
/// <param name="Path">The file written.</param>
/// <param name="Records">Records written.</param>
/// <param name="Prompts">Distinct prompts in it (no prompt is in two splits).</param>
public sealed record SplitPart(string Name, string Path, long Records, long Prompts);

/// <summary>
/// Splits a preference file by prompt: every record of one prompt goes to the same split, so nothing a model sees in
/// training leaks into validation or test. Prompts are shuffled with a seeded RNG and dealt out in that order until
/// each split holds its fraction of the records. Two passes over the file (the first keeps a 16-byte digest and a count
/// per prompt), so large files stream. Records are written as read (same format, every field kept).
/// </summary>
public static class PromptSplit
{
    /// <summary>The names of the splits for 2 or 3 fractions.</summary>
    public static IReadOnlyList<string> NamesFor(int count) => count switch
    {
        2 => ["train", "test"],
        3 => ["train", "validation", "test"],
        _ => throw new ArgumentException($"give 2 or 3 fractions (train,test or train,validation,test), not {count}", "fractions"),
    };

    /// <summary>Parses <c>"0.8,0.1,0.1"</c>; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public static double[] ParseFractions(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]))
                throw new ArgumentException($"--fractions: '{parts[i]}' is not a number; write e.g. 0.8,0.1,0.1", "fractions");
        Validate(values);
        return values;
    }

    static void Validate(IReadOnlyList<double> fractions)
    {
        NamesFor(fractions.Count);
        if (fractions.Any(f => !double.IsFinite(f) || f < 0))
            throw new ArgumentException($"--fractions must be non-negative numbers; got {string.Join(",", fractions)}", "fractions");
        if (Math.Abs(fractions.Sum() - 1) > 1e-6)
            throw new ArgumentException($"--fractions must sum to 1; {string.Join(",", fractions)} sums to {fractions.Sum():G6}", "fractions");
    }

    /// <summary>Splits <paramref name="path"/> into <c>{name}.jsonl</c> files (or <c>.csv</c> when <paramref name="container"/> says so) in <paramref name="outDir"/>.</summary>
    public static (IReadOnlyList<SplitPart> Parts, ReadReport Report) Split(string path, IReadOnlyList<double> fractions, string outDir, ulong seed = 1,
        ReaderOptions? options = null, FileContainer container = FileContainer.Jsonl, CancellationToken cancellationToken = default)
    {
        Validate(fractions);
        var names = NamesFor(fractions.Count);

        // Pass 1: records per prompt, in first-seen order.
        var counts = new Dictionary<UInt128, long>();
        var order = new List<UInt128>();
        var first = new PreferenceReader(path, options);
        foreach (var r in first.ReadRecords(cancellationToken))
        {
            var key = PreferenceStatistics.Hash(r.Prompt);
            if (counts.TryAdd(key, 1)) order.Add(key);
            else counts[key]++;
        }
        var total = counts.Values.Sum();

        // Deal shuffled prompts out: a prompt goes to the split whose cumulative share its first record falls in.
        new DeterministicRandom(seed).Shuffle(order);
        var assignment = new Dictionary<UInt128, int>(order.Count);
        var promptsPer = new long[names.Count];
        long before = 0;
        foreach (var key in order)
        {
            var position = (before + 0.5) / Math.Max(1, total);
            var split = 0;
            double cumulative = fractions[0];
            while (split < names.Count - 1 && position >= cumulative) cumulative += fractions[++split];
            assignment[key] = split;
            promptsPer[split]++;
            before += counts[key];
        }

        // Pass 2: write each record to its split (the second reader re-validates; its report is the one returned).
        var ext = container switch { FileContainer.Csv => ".csv", FileContainer.Parquet => ".parquet", _ => ".jsonl" };
        Directory.CreateDirectory(outDir);
        var paths = names.Select(n => Path.Combine(outDir, n + ext)).ToArray();
        var writers = paths.Select(p => PreferenceWriter.Create(p, container)).ToArray();
        var second = new PreferenceReader(path, options);
        try
        {
            foreach (var r in second.ReadRecords(cancellationToken))
                writers[assignment[PreferenceStatistics.Hash(r.Prompt)]].Write(r);
        }
        finally
        {
            foreach (var w in writers) w.Dispose();
        }
        var parts = names.Select((n, i) => new SplitPart(n, paths[i], writers[i].Count, promptsPer[i])).ToList();
        return (parts, second.Report);
    }
}
