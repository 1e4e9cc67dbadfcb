using System.Text.Json;
using RewardKit.Models;
using RewardKit.Models.Bert;
using RewardKit.Tensors;
using RewardKit.Tensors.Safetensors;
using RewardKit.Text;

namespace RewardKit.Tests.Models.Bert;

/// <summary>
/// The saved folder against Hugging Face's <c>BertForSequenceClassification</c> conventions (transformers' modeling_bert.py:
/// state-dict keys, nn.Linear's [out, in] layout, a one-label classifier; config.json keys; BertTokenizer files), written
/// out here by hand rather than derived from RewardKit's own name list, so a renamed parameter fails this test.
/// </summary>
public sealed class BertModelFolderTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "bert-folder-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>Hugging Face's state-dict keys and shapes of BertForSequenceClassification(num_labels = 1) with one layer.</summary>
    static Dictionary<string, int[]> HuggingFaceKeys(int V, int P, int types, int C, int I)
    {
        var keys = new Dictionary<string, int[]>
        {
            ["bert.embeddings.word_embeddings.weight"] = [V, C],
            ["bert.embeddings.position_embeddings.weight"] = [P, C],
            ["bert.embeddings.token_type_embeddings.weight"] = [types, C],
            ["bert.embeddings.LayerNorm.weight"] = [C],
            ["bert.embeddings.LayerNorm.bias"] = [C],
            ["bert.pooler.dense.weight"] = [C, C],
            ["bert.pooler.dense.bias"] = [C],
            ["classifier.weight"] = [1, C],
            ["classifier.bias"] = [1],
        };
        const string layer = "bert.encoder.layer.0.";
        foreach (var name in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
        {
            keys[layer + name + ".weight"] = [C, C];
            keys[layer + name + ".bias"] = [C];
        }
        keys[layer + "attention.output.LayerNorm.weight"] = [C];
        keys[layer + "attention.output.LayerNorm.bias"] = [C];
        keys[layer + "intermediate.dense.weight"] = [I, C];
        keys[layer + "intermediate.dense.bias"] = [I];
        keys[layer + "output.dense.weight"] = [C, I];
        keys[layer + "output.dense.bias"] = [C];
        keys[layer + "output.LayerNorm.weight"] = [C];
        keys[layer + "output.LayerNorm.bias"] = [C];
        return keys;
    }

    [Fact]
    public void The_saved_folder_has_the_keys_shapes_config_and_tokenizer_files_of_hugging_face_BertForSequenceClassification()
    {
        var tokenizer = new WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "tea", "good"]);
        var config = new BertConfig
        {
            VocabSize = tokenizer.VocabSize, HiddenSize = 8, Layers = 1, Heads = 2, IntermediateSize = 12, MaxPositions = 16, TypeVocabSize = 2,
            SepTokenId = tokenizer.SepId, PadTokenId = tokenizer.PadId,
        };
        var model = new BertRewardModel(config);
        model.Initialize(new Rng(3));
        BertModelFolder.Save(model, tokenizer, _dir);

        var weights = SafetensorsFile.ReadAllFloats(Path.Combine(_dir, "model.safetensors"));
        var expected = HuggingFaceKeys(tokenizer.VocabSize, 16, 2, 8, 12);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), weights.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected) Assert.True(shape.SequenceEqual(weights[name].Shape), $"{name}: [{string.Join(", ", weights[name].Shape)}], Hugging Face has [{string.Join(", ", shape)}]");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")));
        var root = json.RootElement;
        Assert.Equal("BertForSequenceClassification", root.GetProperty("architectures")[0].GetString());
        Assert.Equal("bert", root.GetProperty("model_type").GetString());
        Assert.Equal(1, root.GetProperty("num_labels").GetInt32());
        Assert.Equal("LABEL_0", root.GetProperty("id2label").GetProperty("0").GetString());
        Assert.Equal("gelu", root.GetProperty("hidden_act").GetString());   // transformers' "gelu" is the exact erf GELU the engine computes
        foreach (var key in new[] { "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "max_position_embeddings", "type_vocab_size", "layer_norm_eps" })
            Assert.True(root.TryGetProperty(key, out _), $"config.json lacks {key}");
        foreach (var file in new[] { "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json" })
            Assert.True(File.Exists(Path.Combine(_dir, file)), $"{file} missing: AutoTokenizer.from_pretrained needs it");
        using var tokenizerConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "tokenizer_config.json")));
        Assert.Equal("BertTokenizer", tokenizerConfig.RootElement.GetProperty("tokenizer_class").GetString());
    }
}
