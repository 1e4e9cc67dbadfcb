using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RewardKit.Models.Bert;

/// <summary>
/// The shape of a BERT-family encoder, with the names of Hugging Face's <c>BertConfig</c> in its <c>config.json</c>.
/// Defaults are all-MiniLM-L6-v2's (6 layers, 384 wide, 12 heads). Call <see cref="Validate"/> before use.
/// </summary>
public sealed record BertConfig
{
    /// <summary>The file inside a model folder.</summary>
    public const string FileName = "config.json";

    /// <summary>Vocabulary size V (<c>vocab_size</c>). Uncased BERT: 30522.</summary>
    public int VocabSize { get; init; } = 30522;

    /// <summary>Width C (<c>hidden_size</c>). MiniLM-L6: 384.</summary>
    public int HiddenSize { get; init; } = 384;

    /// <summary>Layers (<c>num_hidden_layers</c>). MiniLM-L6: 6.</summary>
    public int Layers { get; init; } = 6;

    /// <summary>Attention heads NH (<c>num_attention_heads</c>); must divide <see cref="HiddenSize"/>. MiniLM-L6: 12.</summary>
    public int Heads { get; init; } = 12;

    /// <summary>Feed-forward width (<c>intermediate_size</c>). MiniLM-L6: 1536.</summary>
    public int IntermediateSize { get; init; } = 1536;

    /// <summary>Rows of the position table (<c>max_position_embeddings</c>): the longest sequence. 512.</summary>
    public int MaxPositions { get; init; } = 512;

    /// <summary>Token types (<c>type_vocab_size</c>): segment A (0) and B (1). 2.</summary>
    public int TypeVocabSize { get; init; } = 2;

    /// <summary>LayerNorm epsilon (<c>layer_norm_eps</c>). BERT: 1e-12.</summary>
    public float LayerNormEpsilon { get; init; } = 1e-12f;

    /// <summary>Dropout on the embeddings and on each sub-layer's output (<c>hidden_dropout_prob</c>); training only. BERT: 0.1.</summary>
    public float HiddenDropout { get; init; } = 0.1f;

    /// <summary>
    /// Dropout on the attention probabilities (<c>attention_probs_dropout_prob</c>). BERT: 0.1. The fused attention kernel has
    /// none, so training refuses a value above 0 rather than ignore it (fine-tuning sets it to 0).
    /// </summary>
    public float AttentionDropout { get; init; } = 0.1f;

    /// <summary>Normal init standard deviation (<c>initializer_range</c>). 0.02.</summary>
    public float InitializerRange { get; init; } = 0.02f;

    /// <summary>The [PAD] id (<c>pad_token_id</c>). 0.</summary>
    public int PadTokenId { get; init; }

    /// <summary>
    /// The [SEP] id (<c>sep_token_id</c>, 102 in uncased BERT): a row's token types are 0 up to and including its first
    /// [SEP] and 1 after it, so the cross-encoder's [CLS] prompt [SEP] response [SEP] carries its segments in the ids alone.
    /// </summary>
    public int SepTokenId { get; init; } = 102;

    /// <summary>The activation (<c>hidden_act</c>): only "gelu" (exact, erf) is supported.</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Channels per head, C / NH.</summary>
    public int HeadSize => HiddenSize / Heads;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and the fix.</summary>
    public BertConfig Validate()
    {
        static void Require(bool ok, string field, string message)
        {
            if (!ok) throw new ArgumentException($"BertConfig.{field}: {message}");
        }
        Require(VocabSize > 0, nameof(VocabSize), $"vocab_size must be positive, got {VocabSize}.");
        Require(HiddenSize > 0 && Heads > 0 && HiddenSize % Heads == 0, nameof(Heads), $"hidden_size ({HiddenSize}) must be a positive multiple of num_attention_heads ({Heads}).");
        Require(Layers >= 0, nameof(Layers), $"num_hidden_layers must be ≥ 0, got {Layers}.");
        Require(IntermediateSize > 0, nameof(IntermediateSize), $"intermediate_size must be positive, got {IntermediateSize}.");
        Require(MaxPositions > 0 && TypeVocabSize > 0, nameof(MaxPositions), "max_position_embeddings and type_vocab_size must be positive.");
        Require(LayerNormEpsilon > 0, nameof(LayerNormEpsilon), $"layer_norm_eps must be positive, got {LayerNormEpsilon}.");
        Require(HiddenDropout is >= 0 and < 1 && AttentionDropout is >= 0 and < 1, nameof(HiddenDropout), "dropout probabilities must lie in [0, 1).");
        Require(HiddenAct == "gelu", nameof(HiddenAct), $"hidden_act '{HiddenAct}' is not supported; RewardKit's BERT uses the exact GELU (\"gelu\").");
        Require(SepTokenId >= 0 && SepTokenId < VocabSize && PadTokenId >= 0 && PadTokenId < VocabSize, nameof(SepTokenId), "sep_token_id and pad_token_id must lie in the vocabulary.");
        return this;
    }

    /// <summary>The Hugging Face <c>config.json</c>: by default of a <c>BertForSequenceClassification</c> with one label.</summary>
    /// <param name="architecture">The class named in <c>architectures</c> (<c>BertModel</c> for a bare encoder).</param>
    public string ToJson(string architecture = "BertForSequenceClassification")
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(architecture),
            ["model_type"] = "bert",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = HiddenAct,
            ["hidden_dropout_prob"] = HiddenDropout,
            ["attention_probs_dropout_prob"] = AttentionDropout,
            ["max_position_embeddings"] = MaxPositions,
            ["type_vocab_size"] = TypeVocabSize,
            ["initializer_range"] = InitializerRange,
            ["layer_norm_eps"] = LayerNormEpsilon,
            ["pad_token_id"] = PadTokenId,
            ["sep_token_id"] = SepTokenId,
            ["position_embedding_type"] = "absolute",
            ["num_labels"] = 1,
            ["id2label"] = new JsonObject { ["0"] = "LABEL_0" },
            ["label2id"] = new JsonObject { ["LABEL_0"] = 0 },
            ["problem_type"] = "regression",
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads <c>config.json</c> from a folder (or the file itself); errors name the file and the key.</summary>
    public static BertConfig Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no config.json; a BERT folder needs one (Hugging Face BertConfig keys).", file);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(file))?.AsObject() ?? throw new InvalidDataException($"{file}: empty config.json."); }
        catch (JsonException e) { throw new InvalidDataException($"{file}: invalid JSON: {e.Message}", e); }
        var type = json["model_type"]?.GetValue<string>();
        if (type is not null && type is not ("bert" or "roberta" or "xlm-roberta"))
            throw new InvalidDataException($"{file}: model_type '{type}' is not a BERT-family encoder.");
        int Int(string key, int fallback) => json[key] is { } v ? v.GetValue<int>() : fallback;
        float Float(string key, float fallback) => json[key] is { } v ? (float)v.GetValue<double>() : fallback;
        var defaults = new BertConfig();
        try
        {
            return new BertConfig
            {
                VocabSize = Int("vocab_size", defaults.VocabSize),
                HiddenSize = Int("hidden_size", defaults.HiddenSize),
                Layers = Int("num_hidden_layers", defaults.Layers),
                Heads = Int("num_attention_heads", defaults.Heads),
                IntermediateSize = Int("intermediate_size", defaults.IntermediateSize),
                MaxPositions = Int("max_position_embeddings", defaults.MaxPositions),
                TypeVocabSize = Int("type_vocab_size", defaults.TypeVocabSize),
                LayerNormEpsilon = Float("layer_norm_eps", defaults.LayerNormEpsilon),
                HiddenDropout = Float("hidden_dropout_prob", defaults.HiddenDropout),
                AttentionDropout = Float("attention_probs_dropout_prob", defaults.AttentionDropout),
                InitializerRange = Float("initializer_range", defaults.InitializerRange),
                PadTokenId = Int("pad_token_id", defaults.PadTokenId),
                SepTokenId = Int("sep_token_id", defaults.SepTokenId),
                HiddenAct = json["hidden_act"]?.GetValue<string>() ?? defaults.HiddenAct,
            }.Validate();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{file}: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"bert {Layers} layers, C {HiddenSize}, {Heads} heads, FF {IntermediateSize}, V {VocabSize}, {MaxPositions} positions");
}
