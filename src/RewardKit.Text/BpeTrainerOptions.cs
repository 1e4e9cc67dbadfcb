namespace RewardKit.Text;

/// <summary>Settings of <see cref="BpeTrainer"/>. Call <see cref="Validate"/> (the trainer does) to check them.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>Total vocabulary size, special tokens and the 256 byte tokens included. Default 8,192.</summary>
    public int VocabSize { get; init; } = 8192;

    /// <summary>A pair is merged only if it occurs at least this often in the corpus. Default 2.</summary>
    public int MinFrequency { get; init; } = 2;

    /// <summary>Special tokens, given ids 0, 1, ... in this order. Default <c>&lt;|endoftext|&gt;</c> and a distinct
    /// <c>&lt;|pad|&gt;</c> (padding must not look like end-of-text).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = [ByteLevelBpeTokenizer.EndOfText, ByteLevelBpeTokenizer.Pad];

    /// <summary>Threads for counting pre-tokens; 0 (default) means all cores. Training itself is sequential and the
    /// result does not depend on this.</summary>
    public int Threads { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and the fix when a setting is out of range.</summary>
    public void Validate()
    {
        if (SpecialTokens is null) throw new ArgumentException("SpecialTokens must not be null; pass [] for none.", nameof(SpecialTokens));
        int floor = 256 + SpecialTokens.Count;
        if (VocabSize < floor)
            throw new ArgumentException($"VocabSize is {VocabSize}; it must be at least {floor} (256 byte tokens + {SpecialTokens.Count} special tokens).", nameof(VocabSize));
        if (MinFrequency < 1) throw new ArgumentException($"MinFrequency is {MinFrequency}; it must be at least 1.", nameof(MinFrequency));
        if (Threads < 0) throw new ArgumentException($"Threads is {Threads}; use 0 for all cores or a positive count.", nameof(Threads));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in SpecialTokens)
        {
            if (string.IsNullOrEmpty(s)) throw new ArgumentException("SpecialTokens holds an empty token; remove it.", nameof(SpecialTokens));
            if (!seen.Add(s)) throw new ArgumentException($"SpecialTokens lists '{s}' twice; each special token needs its own id.", nameof(SpecialTokens));
        }
    }
}
