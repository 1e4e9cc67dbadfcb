using RewardKit.Text;

namespace RewardKit.Text.Tests;

/// <summary>A small generated corpus and a tokenizer trained on it, for tests that must not need ../shared.</summary>
static class TestCorpus
{
    public static IReadOnlyList<string> Texts { get; } = Build();

    static readonly Lazy<ByteLevelBpeTokenizer> Lazy = new(() =>
        BpeTrainer.Train(Texts, new BpeTrainerOptions { VocabSize = 450, MinFrequency = 2 }));

    /// <summary>Trained with vocabulary 450 on <see cref="Texts"/>.</summary>
    public static ByteLevelBpeTokenizer Tokenizer => Lazy.Value;

    static List<string> Build()
    {
        var rng = new Random(7);
        string[] words = ["the", "reward", "model", "prefers", "helpful", "answers", "Human", "Assistant", "don't", "it's",
            "we'll", "naïve", "café", "日本", "🦙", "42", "3.14", "tokens", "  ", "\n\n", "!", "?", "...", "Ünïcödé", "ok"];
        var texts = new List<string>();
        for (int i = 0; i < 400; i++)
        {
            int n = rng.Next(3, 30);
            var parts = new string[n];
            for (int k = 0; k < n; k++) parts[k] = words[rng.Next(words.Length)];
            texts.Add(string.Join(rng.Next(4) == 0 ? "" : " ", parts));
        }
        return texts;
    }
}
