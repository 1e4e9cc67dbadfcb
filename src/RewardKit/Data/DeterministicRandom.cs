namespace RewardKit.Data;

/// <summary>
/// The world generator's sampling helpers (pick, chance, between, shuffle) over the engine's seeded bit stream
/// (<see cref="RewardKit.Tensors.Rng"/>: xoshiro256** seeded through SplitMix64), so the same seed gives the same data on
/// every runtime and platform, unlike <see cref="System.Random"/>. Not thread-safe; one instance per generation.
/// </summary>
public sealed class DeterministicRandom
{
    readonly RewardKit.Tensors.Rng _bits;

    /// <summary>A generator whose whole state follows from <paramref name="seed"/>.</summary>
    public DeterministicRandom(ulong seed) => _bits = new RewardKit.Tensors.Rng(seed);

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64() => _bits.NextUInt64();

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="n"/>), n &gt; 0 (multiply-shift, bias below 2^-32).</summary>
    public int Next(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be positive");
        return (int)(((NextUInt64() >> 32) * (ulong)n) >> 32);
    }

    /// <summary>Uniform integer in [<paramref name="min"/>, <paramref name="max"/>] inclusive.</summary>
    public int Between(int min, int max) => min + Next(max - min + 1);

    /// <summary>One element of <paramref name="items"/>, uniformly.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal sample (Box-Muller).</summary>
    public double NextGaussian()
    {
        var u = 1.0 - NextDouble();
        var v = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher-Yates).</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
