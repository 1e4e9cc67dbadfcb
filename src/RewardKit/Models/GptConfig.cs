using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RewardKit.Models;

/// <summary>
/// The shape of a GPT-2 reward model, with the names of Hugging Face's <c>GPT2Config</c> in its <c>config.json</c>.
/// Presets: <see cref="Tiny"/>, <see cref="Small"/>, <see cref="Base"/> (GPT-2 124M). Call <see cref="Validate"/> before use.
/// </summary>
public sealed record GptConfig
{
    // ---- size ----------------------------------------------------------------------------------------------

    /// <summary>Embedding width C (<c>n_embd</c>). GPT-2 124M: 768.</summary>
    public int EmbeddingSize { get; init; } = 768;

    /// <summary>Number of transformer blocks (<c>n_layer</c>). GPT-2 124M: 12.</summary>
    public int Layers { get; init; } = 12;

    /// <summary>Attention heads NH (<c>n_head</c>); must divide <see cref="EmbeddingSize"/>. GPT-2 124M: 12.</summary>
    public int Heads { get; init; } = 12;

    /// <summary>Maximum sequence length, the rows of the position table (<c>n_positions</c>, also written as <c>n_ctx</c>). GPT-2: 1024.</summary>
    public int Positions { get; init; } = 1024;

    /// <summary>Vocabulary size V (<c>vocab_size</c>), the rows of the token table. GPT-2: 50257.</summary>
    public int VocabSize { get; init; } = 50257;

    /// <summary>LayerNorm epsilon (<c>layer_norm_epsilon</c>). Default 1e-5, as GPT-2.</summary>
    public float LayerNormEpsilon { get; init; } = 1e-5f;

    // ---- dropout (applied only in training mode) ------------------------------------------------------------

    /// <summary>Dropout on the summed token + position embeddings (<c>embd_pdrop</c>). GPT-2: 0.1.</summary>
    public float EmbeddingDropout { get; init; } = 0.1f;

    /// <summary>
    /// Dropout on the attention probabilities (<c>attn_pdrop</c>). GPT-2: 0.1. The fused attention kernel has no
    /// probability dropout, so training with dropout requires 0 here (see <see cref="GptRewardModel.Forward"/>).
    /// </summary>
    public float AttentionDropout { get; init; } = 0.1f;

    /// <summary>Dropout on each block's attention and MLP outputs before the residual add (<c>resid_pdrop</c>). GPT-2: 0.1.</summary>
    public float ResidualDropout { get; init; } = 0.1f;

    // ---- special tokens -----------------------------------------------------------------------------------

    /// <summary>
    /// The id padding positions carry (<c>pad_token_id</c>), or null (GPT-2 has none). Pooling never searches for it:
    /// the last real token comes from the lengths (the pad == EOS bug of huggingface/trl#937 cannot happen).
    /// </summary>
    public int? PadTokenId { get; init; }

    /// <summary>End-of-sequence id (<c>eos_token_id</c>). GPT-2: 50256.</summary>
    public int? EosTokenId { get; init; } = 50256;

    /// <summary>Normal init standard deviation (<c>initializer_range</c>). GPT-2: 0.02.</summary>
    public float InitializerRange { get; init; } = 0.02f;

    /// <summary>Channels per head, C / NH.</summary>
    public int HeadSize => EmbeddingSize / Heads;

    // ---- presets ------------------------------------------------------------------------------------------

    /// <summary>
    /// 2 layers, C = 128, 4 heads, 256 positions, initializer_range 0.06: for tests, the built-in data and the quickstart.
    /// GPT-2's 0.02 is sized for C = 768; at C = 128 it leaves the attention logits and the MLP pre-activations near zero,
    /// so attention patterns start to form late. On the built-in world 0.06 gave validation accuracy 0.7075 after 1000 steps
    /// (0.02: 0.6855, 0.1: 0.6905; bench/world-accuracy-notes.md).
    /// </summary>
    public static GptConfig Tiny(int vocabSize, int? eosTokenId = null, int? padTokenId = null) => new()
    {
        Layers = 2, EmbeddingSize = 128, Heads = 4, Positions = 256, VocabSize = vocabSize,
        EosTokenId = eosTokenId ?? vocabSize - 1, PadTokenId = padTokenId, InitializerRange = TinyInitializerRange,
    };

    /// <summary>The tiny preset's initializer_range (see <see cref="Tiny"/>).</summary>
    public const float TinyInitializerRange = 0.06f;

    /// <summary>4 layers, C = 256, 4 heads, 512 positions.</summary>
    public static GptConfig Small(int vocabSize, int? eosTokenId = null, int? padTokenId = null) => new()
    {
        Layers = 4, EmbeddingSize = 256, Heads = 4, Positions = 512, VocabSize = vocabSize,
        EosTokenId = eosTokenId ?? vocabSize - 1, PadTokenId = padTokenId,
    };

    /// <summary>GPT-2 124M: 12 layers, C = 768, 12 heads, 1024 positions, 50257 tokens, EOS 50256.</summary>
    public static GptConfig Base() => new();

    /// <summary>A preset by name (<c>tiny</c>, <c>small</c>, <c>base</c>); tiny and small take the tokenizer's vocabulary size.</summary>
    public static GptConfig Preset(string name, int vocabSize, int? eosTokenId = null) => name.ToLowerInvariant() switch
    {
        "tiny" => Tiny(vocabSize, eosTokenId),
        "small" => Small(vocabSize, eosTokenId),
        "base" or "gpt2" => Base() with { VocabSize = vocabSize, EosTokenId = eosTokenId ?? 50256 },
        _ => throw new ArgumentException($"preset '{name}' is unknown; use tiny, small or base.", nameof(name)),
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field and the fix.</summary>
    public GptConfig Validate()
    {
        static void Require(bool ok, string field, string message)
        {
            if (!ok) throw new ArgumentException($"GptConfig.{field}: {message}", field);
        }
        Require(EmbeddingSize > 0, nameof(EmbeddingSize), $"n_embd must be positive, got {EmbeddingSize}.");
        Require(Layers > 0, nameof(Layers), $"n_layer must be positive, got {Layers}.");
        Require(Heads > 0, nameof(Heads), $"n_head must be positive, got {Heads}.");
        Require(EmbeddingSize % Heads == 0, nameof(Heads), $"n_head ({Heads}) must divide n_embd ({EmbeddingSize}).");
        Require(Positions > 0, nameof(Positions), $"n_positions must be positive, got {Positions}.");
        Require(VocabSize > 0, nameof(VocabSize), $"vocab_size must be positive, got {VocabSize}.");
        Require(LayerNormEpsilon > 0 && float.IsFinite(LayerNormEpsilon), nameof(LayerNormEpsilon), $"layer_norm_epsilon must be a positive number, got {LayerNormEpsilon}.");
        Require(InitializerRange >= 0 && float.IsFinite(InitializerRange), nameof(InitializerRange), $"initializer_range must be ≥ 0, got {InitializerRange}.");
        foreach (var (field, p) in new[] { (nameof(EmbeddingDropout), EmbeddingDropout), (nameof(AttentionDropout), AttentionDropout), (nameof(ResidualDropout), ResidualDropout) })
            Require(p >= 0 && p < 1, field, $"a dropout probability must be in [0, 1), got {p}.");
        RequireOneBuffer(Require);
        Require(PadTokenId is null || (PadTokenId >= 0 && PadTokenId < VocabSize), nameof(PadTokenId), $"pad_token_id {PadTokenId} is outside the vocabulary [0, {VocabSize}).");
        Require(EosTokenId is null || (EosTokenId >= 0 && EosTokenId < VocabSize), nameof(EosTokenId), $"eos_token_id {EosTokenId} is outside the vocabulary [0, {VocabSize}).");
        return this;
    }

    /// <summary>
    /// All parameters live in one float buffer, which holds at most <see cref="Array.MaxLength"/> values: a config beyond
    /// that (e.g. <c>vocab_size</c> 2147483647) is refused by the key that contributes most, before anything is allocated.
    /// </summary>
    void RequireOneBuffer(Action<bool, string, string> require)
    {
        double c = EmbeddingSize;
        var terms = new (string Field, string Key, double Count)[]
        {
            (nameof(VocabSize), "vocab_size", VocabSize * c),
            (nameof(Positions), "n_positions", Positions * c),
            (nameof(Layers), "n_layer", Layers * (12 * c * c + 13 * c)),
        };
        var total = terms.Sum(t => t.Count) + 3 * c;
        if (total <= Array.MaxLength) return;
        var (field, key, count) = terms.MaxBy(t => t.Count);
        require(false, field, string.Create(CultureInfo.InvariantCulture,
            $"{key} = {(field == nameof(Layers) ? Layers : field == nameof(VocabSize) ? VocabSize : Positions)} with n_embd = {EmbeddingSize} makes {count:N0} of the model's {total:N0} parameters, "
            + $"more than one parameter buffer holds ({Array.MaxLength:N0}); check {key} and n_embd."));
    }

    /// <summary>This config with every dropout probability set to 0 (TRL's <c>disable_dropout</c>).</summary>
    public GptConfig WithoutDropout() => this with { EmbeddingDropout = 0, AttentionDropout = 0, ResidualDropout = 0 };

    // ---- Hugging Face config.json -------------------------------------------------------------------------

    /// <summary>The file name inside a model folder.</summary>
    public const string FileName = "config.json";

    /// <summary>The architecture of a reward model's <c>config.json</c>.</summary>
    public const string SequenceClassification = "GPT2ForSequenceClassification";

    /// <summary>The architecture of a policy's (causal language model's) <c>config.json</c>.</summary>
    public const string LanguageModel = "GPT2LMHeadModel";

    /// <summary>
    /// The <c>config.json</c> Hugging Face reads for <paramref name="architecture"/>: GPT-2's keys and
    /// <c>activation_function: "gelu_new"</c>; <c>GPT2ForSequenceClassification</c> (default) with one label,
    /// <c>GPT2LMHeadModel</c> with the head tied to the token table and <c>use_cache</c> on.
    /// </summary>
    public string ToJson(string architecture = SequenceClassification)
    {
        if (architecture is not (SequenceClassification or LanguageModel))
            throw new ArgumentException($"GptConfig.ToJson: architecture '{architecture}'; use {SequenceClassification} or {LanguageModel}.", nameof(architecture));
        bool classifier = architecture == SequenceClassification;
        var o = new JsonObject
        {
            ["activation_function"] = "gelu_new",
            ["architectures"] = new JsonArray(architecture),
            ["attn_pdrop"] = AttentionDropout,
            ["bos_token_id"] = EosTokenId,
            ["embd_pdrop"] = EmbeddingDropout,
            ["eos_token_id"] = EosTokenId,
            ["id2label"] = classifier ? new JsonObject { ["0"] = "LABEL_0" } : null,
            ["initializer_range"] = InitializerRange,
            ["label2id"] = classifier ? new JsonObject { ["LABEL_0"] = 0 } : null,
            ["layer_norm_epsilon"] = LayerNormEpsilon,
            ["model_type"] = "gpt2",
            ["n_ctx"] = Positions,
            ["n_embd"] = EmbeddingSize,
            ["n_head"] = Heads,
            ["n_inner"] = null,
            ["n_layer"] = Layers,
            ["n_positions"] = Positions,
            ["num_labels"] = classifier ? 1 : null,
            ["pad_token_id"] = PadTokenId,
            ["resid_pdrop"] = ResidualDropout,
            ["scale_attn_weights"] = true,
            ["tie_word_embeddings"] = classifier ? null : true,
            ["torch_dtype"] = "float32",
            ["use_cache"] = !classifier,
            ["vocab_size"] = VocabSize,
        };
        foreach (var key in o.Where(p => p.Value is null && p.Key != "n_inner" && p.Key != "pad_token_id" && p.Key != "bos_token_id" && p.Key != "eos_token_id").Select(p => p.Key).ToList())
            o.Remove(key);
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The first entry of <c>architectures</c> in <paramref name="directory"/>'s <c>config.json</c>, or null when it names none.</summary>
    public static string? ReadArchitecture(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o["architectures"] is JsonArray a && a.Count > 0 && a[0] is JsonValue v
                && v.TryGetValue<string>(out var name) ? name : null;
        }
        catch (JsonException) { return null; }   // GptConfig.Load reports the broken file
    }

    /// <summary>
    /// Reads a GPT-2 <c>config.json</c> (<paramref name="source"/> names the file in messages). Missing keys take GPT-2's
    /// defaults; settings this implementation does not compute (another activation, <c>n_inner</c> ≠ 4·n_embd, more than
    /// one label, other model types) are refused with the key and the fix.
    /// </summary>
    public static GptConfig FromJson(string json, string source = FileName)
    {
        JsonObject o;
        try
        {
            o = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }

        T? Get<T>(string key) where T : struct
        {
            if (!o.TryGetPropertyValue(key, out var node) || node is null) return null;
            try { return node.GetValue<T>(); }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw new InvalidDataException($"{source}: key '{key}' must be a {typeof(T).Name.ToLowerInvariant()}, got {node.ToJsonString()}.", e);
            }
        }
        string? GetString(string key) => o.TryGetPropertyValue(key, out var n) && n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        var modelType = GetString("model_type");
        if (modelType is not null && modelType != "gpt2")
            throw new InvalidDataException($"{source}: model_type is '{modelType}'; only GPT-2 checkpoints (model_type \"gpt2\") are supported.");
        var activation = GetString("activation_function") ?? "gelu_new";
        if (activation != "gelu_new")
            throw new InvalidDataException($"{source}: activation_function is '{activation}'; this GPT-2 computes gelu_new (the tanh GELU) only.");
        int embd = Get<int>("n_embd") ?? 768;
        if (Get<int>("n_inner") is { } inner && inner != 4 * embd)
            throw new InvalidDataException($"{source}: n_inner is {inner}; only the GPT-2 MLP width 4·n_embd = {4 * embd} (or null) is supported.");
        int? labels = Get<int>("num_labels") ?? (o["id2label"] as JsonObject)?.Count;
        if (labels is { } l && l != 1)
            throw new InvalidDataException($"{source}: num_labels is {l}; a reward model has one label (set num_labels to 1).");
        if (o["scale_attn_by_inverse_layer_idx"]?.GetValueKind() == JsonValueKind.True || o["reorder_and_upcast_attn"]?.GetValueKind() == JsonValueKind.True)
            throw new InvalidDataException($"{source}: scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported; set them to false.");

        var config = new GptConfig
        {
            EmbeddingSize = embd,
            Layers = Get<int>("n_layer") ?? 12,
            Heads = Get<int>("n_head") ?? 12,
            Positions = Get<int>("n_positions") ?? Get<int>("n_ctx") ?? 1024,
            VocabSize = Get<int>("vocab_size") ?? 50257,
            LayerNormEpsilon = Get<float>("layer_norm_epsilon") ?? 1e-5f,
            EmbeddingDropout = Get<float>("embd_pdrop") ?? 0.1f,
            AttentionDropout = Get<float>("attn_pdrop") ?? 0.1f,
            ResidualDropout = Get<float>("resid_pdrop") ?? 0.1f,
            PadTokenId = Get<int>("pad_token_id"),
            EosTokenId = o.ContainsKey("eos_token_id") ? Get<int>("eos_token_id") : 50256,
            InitializerRange = Get<float>("initializer_range") ?? 0.02f,
        };
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}", e); }
    }

    /// <summary>Reads <c>config.json</c> from a model or checkpoint folder.</summary>
    public static GptConfig Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no {FileName}; is '{directory}' a GPT-2 model folder?", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>A short description for logs: "GPT-2 L=2 C=128 NH=4 T≤256 V=50257".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"GPT-2 L={Layers} C={EmbeddingSize} NH={Heads} T≤{Positions} V={VocabSize}");
}
