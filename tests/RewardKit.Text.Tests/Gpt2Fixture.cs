using RewardKit.Text;

namespace RewardKit.Text.Tests;

/// <summary>Loads the shared GPT-2 tokenizer once for all tests (loading parses 1 MB of JSON).</summary>
static class Gpt2
{
    static readonly Lazy<ByteLevelBpeTokenizer> Lazy = new(() =>
        ByteLevelBpeTokenizer.FromDirectory(SharedData.PathOf("tokenizers/gpt2")));

    public static ByteLevelBpeTokenizer Tokenizer => Lazy.Value;
}
