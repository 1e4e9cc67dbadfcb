using System.Text.Json;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Tests.Generation;

/// <summary>A small untrained policy with its own tokenizer, and prompts files to generate for.</summary>
static class PolicyTestData
{
    public static readonly string[] Topics = ["the sea", "a bird", "rain", "the moon", "bread"];

    public static Policy Create(int positions = 48, string template = "plain")
    {
        var texts = Topics.SelectMany(t => new[] { $"Tell me about {t}.", $"Sure, here is something about {t}.", "No." }).ToList();
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 300, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = positions, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId, InitializerRange = 0.2f }.WithoutDropout();
        return new Policy(GptLanguageModel.Create(config, seed: 7), tokenizer, PromptTemplate.FromName(template), new RewardModelMetadata { Template = template });
    }

    /// <summary>A JSONL prompts file: one {"prompt", "id"} per topic.</summary>
    public static string PromptsFile(string dir)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "prompts.jsonl");
        File.WriteAllLines(path, Topics.Select((t, i) => JsonSerializer.Serialize(new { prompt = $"Tell me about {t}.", id = $"p{i}" })));
        return path;
    }
}
