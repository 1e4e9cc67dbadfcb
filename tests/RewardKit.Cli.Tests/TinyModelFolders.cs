using System.Text.Json;
using System.Text.Json.Serialization;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

/// <summary>Small untrained reward-model folders with their own tokenizer, and the pairs they were made from (CLI tests).</summary>
static class TinyModelFolders
{
    static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>
    /// Writes <paramref name="count"/> pairs about numbered topics to <c>DIR/pairs.jsonl</c> (rejected: <paramref name="rejected"/>
    /// of the index; per-objective labels from <paramref name="labels"/> when given) and trains a 300-token BPE on their texts.
    /// </summary>
    public static (string Data, ByteLevelBpeTokenizer Tokenizer) PairsAndTokenizer(string dir, int count, Func<int, string> rejected,
        Func<int, Dictionary<string, double>>? labels = null)
    {
        Directory.CreateDirectory(dir);
        var data = Path.Combine(dir, "pairs.jsonl");
        var texts = new List<string>();
        using (var w = new StreamWriter(data))
            for (int i = 0; i < count; i++)
            {
                string prompt = $"Tell me about topic {i}.", chosen = $"Sure, here is a helpful answer about topic {i}.", r = rejected(i);
                texts.AddRange([prompt, chosen, r]);
                w.WriteLine(JsonSerializer.Serialize(new { prompt, chosen, rejected = r, labels = labels?.Invoke(i) }, Json));
            }
        return (data, BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 300, MinFrequency = 1 }));
    }

    /// <summary>A 1-layer, 32-wide reward model (seed 5, plain template) in <c>DIR/NAME</c>, over 24 pairs in <c>DIR/pairs.jsonl</c>.</summary>
    public static (string Model, string Data) RewardModel(string dir, string name = "model")
    {
        var (data, tokenizer) = PairsAndTokenizer(dir, 24, i => i % 2 == 0 ? "No." : "Go away.");
        var config = new GptConfig { Layers = 1, EmbeddingSize = 32, Heads = 2, Positions = 64, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var folder = Path.Combine(dir, name);
        RewardModelFolder.Save(GptRewardModel.Create(config, seed: 5), folder, new RewardModelMetadata { Template = "plain", MaxLength = 64 }, writeExtra: tokenizer.Save);
        return (folder, data);
    }

    /// <summary>
    /// A tiny untrained policy (<c>DIR/policy</c>, seed 3) and reward model (<c>DIR/reward</c>, seed 5) sharing a tokenizer trained on
    /// prompts and answers about <paramref name="topics"/>, and <c>DIR/prompts.jsonl</c>: <paramref name="promptLines"/> as given,
    /// or one <c>{"prompt"}</c> line per topic.
    /// </summary>
    public static (string Policy, string Reward, string Prompts) PolicyAndRewardModel(string dir, string[] topics, params string[] promptLines)
    {
        var texts = topics.SelectMany(t => new[] { $"Tell me about {t}.", $"Sure, here is something about {t}." }).ToList();
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 280, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = 64, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var policy = Path.Combine(dir, "policy");
        new Policy(GptLanguageModel.Create(config, seed: 3), tokenizer, PromptTemplate.Plain, new RewardModelMetadata()).Save(policy);
        var reward = Path.Combine(dir, "reward");
        RewardModelFolder.Save(GptRewardModel.Create(config, seed: 5), reward, new RewardModelMetadata { Template = "plain", MaxLength = 64 }, writeExtra: tokenizer.Save);
        var prompts = Path.Combine(dir, "prompts.jsonl");
        File.WriteAllLines(prompts, promptLines.Length > 0 ? promptLines : topics.Select(t => JsonSerializer.Serialize(new { prompt = $"Tell me about {t}." })));
        return (policy, reward, prompts);
    }
}
