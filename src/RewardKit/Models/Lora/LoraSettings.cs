namespace RewardKit.Models.Lora;

/// <summary>
/// The shape of a LoRA adapter (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"), as PEFT's
/// <c>LoraConfig</c> names it: each targeted Conv1D layer W (in, out) becomes W + (α/r)·(B·A)ᵀ with A (r, in) and
/// B (out, r) trained and W frozen.
/// </summary>
public sealed record LoraSettings
{
    /// <summary>The layer names a target may be: <c>c_attn</c> (attention q|k|v), <c>c_proj</c> (both output projections,
    /// attention's and the MLP's, as PEFT matches by name suffix) and <c>c_fc</c> (the MLP's first layer).</summary>
    public static IReadOnlyList<string> KnownTargets { get; } = ["c_attn", "c_proj", "c_fc"];

    /// <summary>The rank r of A (r, in) and B (out, r). Default 8.</summary>
    public int Rank { get; init; } = 8;

    /// <summary>α: the update is scaled by α/r. Default 8 (PEFT's default), i.e. scaling 1 at r = 8.</summary>
    public float Alpha { get; init; } = 8;

    /// <summary>Dropout on the adapter's input in training (PEFT's <c>lora_dropout</c>). Default 0.</summary>
    public float Dropout { get; init; }

    /// <summary>The targeted layers (from <see cref="KnownTargets"/>). Default all three.</summary>
    public IReadOnlyList<string> Targets { get; init; } = KnownTargets;

    /// <summary>α/r, the factor of the low-rank update.</summary>
    public float Scaling => Alpha / Rank;

    /// <summary>True when the Conv1D layer <paramref name="module"/> (e.g. <c>transformer.h.0.attn.c_attn</c>) is targeted.</summary>
    public bool IsTargeted(string module) => Targets.Any(t => module.EndsWith("." + t, StringComparison.Ordinal));

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field and the fix.</summary>
    public LoraSettings Validate()
    {
        if (Rank < 1) throw new ArgumentException($"'lora_r': {Rank} must be at least 1 (try 8).");
        if (!(Alpha > 0) || !float.IsFinite(Alpha)) throw new ArgumentException($"'lora_alpha': {Alpha} must be a positive number (PEFT's default is 8).");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"'lora_dropout': {Dropout} must be in [0, 1).");
        if (Targets.Count == 0) throw new ArgumentException($"'lora_targets': name at least one of {string.Join(", ", KnownTargets)}.");
        foreach (var t in Targets)
            if (!KnownTargets.Contains(t))
                throw new ArgumentException($"'lora_targets': '{t}' is not a GPT-2 Conv1D layer; use any of {string.Join(", ", KnownTargets)} (comma-separated).");
        return this;
    }

    /// <summary>Parses a comma-separated target list (<c>c_attn,c_proj</c>), validating each name.</summary>
    public static IReadOnlyList<string> ParseTargets(string text)
    {
        var targets = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
        new LoraSettings { Targets = targets }.Validate();
        return targets;
    }
}
