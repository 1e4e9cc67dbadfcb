using RewardKit.Models;
using RewardKit.Models.Bert;
using RewardKit.Tensors;
using RewardKit.Tensors.Safetensors;
using RewardKit.Text;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

/// <summary>Tiny preference files and tiny trainer options, so that a run takes a second or two.</summary>
internal static class TrainingTestData
{
    static readonly string[] Topics = ["the weather", "a recipe", "the train times", "a poem", "the river", "music", "chess", "tea"];

    /// <summary>
    /// Writes <paramref name="pairs"/> pairs whose chosen response is polite and helpful and whose rejected one is curt
    /// (a pattern a tiny model learns in a few dozen steps).
    /// </summary>
    public static string WritePairs(string directory, string name, int pairs, int seed = 1, int longPromptWords = 0)
    {
        var rng = new Random(seed);
        var path = Path.Combine(directory, name);
        using var w = new StreamWriter(path);
        for (int i = 0; i < pairs; i++)
        {
            var topic = Topics[rng.Next(Topics.Length)];
            var prompt = $"Tell me about {topic}, number {i}." + (longPromptWords > 0 && i % 2 == 0 ? " " + string.Join(' ', Enumerable.Repeat("please", longPromptWords)) : "");
            var good = $"Sure, happy to help: here is a clear answer about {topic}. Thank you for asking!";
            var bad = rng.Next(2) == 0 ? "No." : $"Whatever, {topic} is boring.";
            w.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { prompt, chosen = good, rejected = bad }));
        }
        return path;
    }

    /// <summary>Options for a test run: vocabulary 300, one batch of 8 pairs, no warm-up, fixed threads.</summary>
    /// <summary>
    /// A tiny random "pretrained" BERT folder in <paramref name="directory"/>/backbone (BertModel names, no classifier) whose
    /// vocabulary covers the words of <see cref="WritePairs"/>.
    /// </summary>
    public static string TinyBertBackbone(string directory)
    {
        var words = File.ReadAllText(WritePairs(directory, "vocab-source.jsonl", 40))
            .Split([' ', '"', ',', ':', '.', '!', '{', '}', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal);
        var tokenizer = new WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", ".", "!", ":", .. words]);
        var config = new BertConfig
        {
            VocabSize = tokenizer.VocabSize, HiddenSize = 16, Layers = 1, Heads = 2, IntermediateSize = 32, MaxPositions = 64,
            SepTokenId = tokenizer.SepId, PadTokenId = tokenizer.PadId,
        };
        var model = new BertRewardModel(config);
        model.Initialize(new Rng(11));
        var dir = Path.Combine(directory, "backbone");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, BertConfig.FileName), config.ToJson("BertModel"));
        SafetensorsWriter.Write(Path.Combine(dir, RewardModelFolder.WeightsFileName), model.Parameters.Entries
            .Where(e => e.Name.StartsWith(BertRewardModel.BackbonePrefix, StringComparison.Ordinal))
            .Select(e => (e.Name[BertRewardModel.BackbonePrefix.Length..], e.Tensor.Shape, e.Tensor.ToArray())));
        tokenizer.Save(dir);
        return dir;
    }

    public static RewardTrainingOptions Options(int maxSteps) => new()
    {
        VocabSize = 300, MaxLength = 48, BatchSize = 8, MaxSteps = maxSteps, LearningRate = 3e-3, WarmupRatio = 0,
        Schedule = LearningRateDecay.Constant, EvalEvery = 0, Threads = 2, Seed = 7, SftSteps = 0,
    };

    /// <summary>A one-block, 16-wide model.</summary>
    public static GptConfig Tiny(GptConfig c) => c with { EmbeddingSize = 16, Heads = 2, Layers = 1, Positions = 64 };

    public static string NewFolder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rk-trainer-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>Temporary run folders of a test class, deleted when the class's test ends.</summary>
public abstract class TrainingFolderTest : IDisposable
{
    readonly List<string> _folders = [];

    /// <summary>A new empty folder.</summary>
    protected string NewFolder()
    {
        var dir = TrainingTestData.NewFolder();
        _folders.Add(dir);
        return dir;
    }

    /// <summary>Deletes the run folders of the test.</summary>
    public void Dispose()
    {
        foreach (var dir in _folders)
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>A theory that is skipped while the model's op bodies are not yet merged.</summary>
public sealed class NeedsOpsTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips when the ops are missing.</summary>
    public NeedsOpsTheoryAttribute()
    {
        if (!NeedsOpsFactAttribute.OpsAvailable.Value) Skip = NeedsOpsFactAttribute.Reason;
    }
}

/// <summary>A fact that is skipped while the model's op bodies (Linear, LayerNorm, attention ...) are not yet merged.</summary>
public sealed class NeedsOpsFactAttribute : FactAttribute
{
    internal const string Reason = "needs the op bodies from branches opsa/opsb2 (runs automatically once they are merged)";

    internal static readonly Lazy<bool> OpsAvailable = new(() =>
    {
        try
        {
            var model = GptRewardModel.Create(new GptConfig { EmbeddingSize = 8, Heads = 2, Layers = 1, Positions = 8, VocabSize = 10, EosTokenId = null }.WithoutDropout(), 1);
            model.Forward(new Tape(), TokenBatch.FromSequences([[1, 2, 3]]));
            return true;
        }
        catch (NotImplementedException) { return false; }
    });

    /// <summary>Skips when the ops are missing.</summary>
    public NeedsOpsFactAttribute()
    {
        if (!OpsAvailable.Value) Skip = Reason;
    }
}
