using System.Globalization;

namespace RewardKit.Generation;

/// <summary>
/// How <see cref="TokenGenerator"/> picks tokens, with Hugging Face <c>generate</c>'s names and order of logit processing
/// (temperature, then top-k, then top-p). The same text is the help of <c>rewardkit generate</c>'s flags.
/// </summary>
public sealed record SamplingOptions
{
    // ---- length ---------------------------------------------------------------------------------------------

    /// <summary>The most tokens generated per sequence (<c>max_new_tokens</c>), EOS included. Default 64.</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>Stop a sequence when it produces the end-of-sequence token (kept as its last token). Default true.</summary>
    public bool StopAtEos { get; init; } = true;

    /// <summary>The end-of-sequence id; null takes the model's <c>eos_token_id</c>.</summary>
    public int? EosTokenId { get; init; }

    // ---- choice ---------------------------------------------------------------------------------------------

    /// <summary>Pick the most likely token (<c>do_sample=False</c>); temperature, top-k, top-p and the seed are then unused. Default false.</summary>
    public bool Greedy { get; init; }

    /// <summary>Divides the logits before sampling (&lt; 1 sharper, &gt; 1 flatter); must be &gt; 0. Default 1.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Sample only among the k most likely tokens (ties at the k-th value kept, as Hugging Face); 0 = off. Default 0.</summary>
    public int TopK { get; init; }

    /// <summary>
    /// Nucleus sampling (Holtzman et al. 2020): keep the most likely tokens until their probability reaches p (the most
    /// likely always kept); 1 = off. Default 1.
    /// </summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Seed of the sampling: the same seed gives the same tokens, for any thread count. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field (as its CLI flag) and the fix.</summary>
    public SamplingOptions Validate()
    {
        static void Require(bool ok, string flag, string message)
        {
            if (!ok) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{flag}: {message}"), flag);
        }
        Require(MaxNewTokens >= 1, "--max-new-tokens", $"{MaxNewTokens}; generate at least 1 token.");
        Require(Temperature > 0 && float.IsFinite(Temperature), "--temperature", $"{Temperature}; use a positive number (or --greedy).");
        Require(TopK >= 0, "--top-k", $"{TopK}; use 0 (off) or a positive count.");
        Require(TopP > 0 && TopP <= 1, "--top-p", $"{TopP}; use a probability in (0, 1] (1 is off).");
        Require(EosTokenId is null or >= 0, "--eos-token-id", $"{EosTokenId}; use a token id.");
        return this;
    }

    /// <summary>
    /// The seed of sample <paramref name="sample"/> of prompt <paramref name="prompt"/> under <paramref name="seed"/>: a
    /// sequence's tokens depend on these alone, not on the batch it was generated in.
    /// </summary>
    public static ulong RowSeed(ulong seed, long prompt, int sample)
    {
        ulong x = seed ^ 0x9E3779B97F4A7C15UL * (ulong)(prompt + 1) ^ 0xC2B2AE3D27D4EB4FUL * (ulong)(sample + 1);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
