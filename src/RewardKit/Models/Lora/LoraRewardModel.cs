// Shapes: B batch, T time (padded length), C channels (n_embd), r LoRA rank, in/out a Conv1D layer's sizes.
using RewardKit.Tensors;

namespace RewardKit.Models.Lora;

/// <summary>One adapted Conv1D layer: the frozen base weight W (in, out) and its trained factors A (r, in) and B (out, r).</summary>
/// <param name="Module">The layer's model name, e.g. <c>transformer.h.0.attn.c_attn</c>.</param>
/// <param name="Weight">W (in, out), Conv1D layout, frozen.</param>
/// <param name="A">lora_A (r, in).</param>
/// <param name="B">lora_B (out, r).</param>
public sealed record LoraLayer(string Module, Tensor Weight, Tensor A, Tensor B);

/// <summary>
/// A GPT-2 reward model with LoRA adapters, as PEFT's <c>get_peft_model(GPT2ForSequenceClassification, LoraConfig(task_type=SEQ_CLS,
/// fan_in_fan_out=True, modules_to_save=["score"]))</c> computes it:
/// <code>
/// Conv1D'(x) = x · W + b + (α/r) · dropout(x) · Aᵀ · Bᵀ      for each targeted layer (W frozen)
/// r = score'(ln_f(h))[b, Length[b] − 1]                     score' a trained copy of the base's score head
/// </code>
/// The base model is frozen in place (<see cref="ParameterSet.Freeze"/>); <see cref="Parameters"/> holds only A, B and
/// the head, under PEFT's saved names (<c>base_model.model.transformer.h.0.attn.c_attn.lora_A.weight</c>,
/// <c>base_model.model.score.weight</c>). <see cref="Merge"/> folds the adapters into a plain <see cref="GptRewardModel"/>.
/// </summary>
public sealed class LoraRewardModel
{
    /// <summary>The prefix PEFT gives every saved tensor of a wrapped model.</summary>
    public const string PeftPrefix = "base_model.model.";

    /// <summary>The adapter's head, PEFT's saved name for <c>score.modules_to_save.default.weight</c>.</summary>
    public const string ScoreWeightName = PeftPrefix + GptRewardModel.ScoreWeightName;

    readonly Dictionary<Tensor, LoraLayer> _byWeight = new(ReferenceEqualityComparer.Instance);

    /// <summary>Wraps <paramref name="baseModel"/> (which is frozen) with zero adapters; call <see cref="Initialize"/> or load them.</summary>
    public LoraRewardModel(GptRewardModel baseModel, LoraSettings settings)
    {
        Base = baseModel ?? throw new ArgumentNullException(nameof(baseModel));
        Settings = (settings ?? throw new ArgumentNullException(nameof(settings))).Validate();
        if (baseModel.Conv1DKernel is not null)
            throw new ArgumentException("LoraRewardModel: the base model has its own Conv1D kernel (an int8 folder?); adapters train over float weights, so start from the float model.");
        var p = new ParameterSet.Builder();
        var layers = new List<LoraLayer>();
        foreach (var (module, weight) in ConvLayers(baseModel))
        {
            if (!Settings.IsTargeted(module)) continue;
            int fanIn = weight.Dim(0), fanOut = weight.Dim(1);
            var a = p.Add(PeftPrefix + module + ".lora_A.weight", [Settings.Rank, fanIn]);      // (r, in)
            var b = p.Add(PeftPrefix + module + ".lora_B.weight", [fanOut, Settings.Rank]);     // (out, r)
            var layer = new LoraLayer(module, weight, a, b);
            layers.Add(layer);
            _byWeight[weight] = layer;
        }
        ScoreWeight = p.Add(ScoreWeightName, baseModel.ScoreWeight.Shape);
        Parameters = p.Build();
        Layers = layers;
        baseModel.Parameters.Freeze();
    }

    /// <summary>The frozen base model.</summary>
    public GptRewardModel Base { get; }

    /// <summary>Rank, α, dropout and targets.</summary>
    public LoraSettings Settings { get; }

    /// <summary>The adapted layers, in the base's order.</summary>
    public IReadOnlyList<LoraLayer> Layers { get; }

    /// <summary>The trained head (K, C), a copy of the base's <c>score.weight</c> (PEFT's <c>modules_to_save</c>).</summary>
    public Tensor ScoreWeight { get; }

    /// <summary>What is trained: every A and B, and the head, under PEFT's saved names.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The number of trained scalars.</summary>
    public int TrainableParameterCount => Parameters.Count;

    /// <summary>
    /// PEFT's initialisation: A from kaiming_uniform(a = √5), i.e. U(−1/√in, 1/√in); B zero (so the adapted model starts
    /// as the base); the head copied from the base's <c>score.weight</c>.
    /// </summary>
    public void Initialize(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        foreach (var layer in Layers)
        {
            float bound = 1f / MathF.Sqrt(layer.A.Dim(1));
            rng.FillUniform(layer.A.Data, -bound, bound);
            layer.B.Data.Clear();
        }
        Base.ScoreWeight.Data.CopyTo(ScoreWeight.Data);
    }

    /// <summary>The reward of every row of <paramref name="batch"/>, through the adapters.</summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded token ids and the real length of each row.</param>
    /// <param name="training">Turns dropout on (the base's and the adapters' <see cref="LoraSettings.Dropout"/>).</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <returns>(B) rewards.</returns>
    public Tensor Forward(Tape tape, TokenBatch batch, bool training = false, Rng? dropoutRng = null) =>
        Outputs(tape, batch, training, dropoutRng).Reshape(batch.Batch);

    /// <summary>Every head output (B, K) through the adapters (K = the head's rows).</summary>
    internal Tensor Outputs(Tape tape, TokenBatch batch, bool training, Rng? dropoutRng)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (training && Settings.Dropout > 0 && dropoutRng is null)
            throw new ArgumentException("LoraRewardModel: training with lora_dropout needs a dropout Rng.", nameof(dropoutRng));
        var kernel = new LoraConv1D(this, training ? Settings.Dropout : 0, dropoutRng);
        return Base.Heads(tape, batch, ScoreWeight, kernel, training, dropoutRng);
    }

    /// <summary>The adapted layer whose frozen weight is <paramref name="weight"/>, or null.</summary>
    internal LoraLayer? LayerOf(Tensor weight) => _byWeight.GetValueOrDefault(weight);

    /// <summary>
    /// A plain model computing the same rewards: a copy of the base with W + (α/r)·(B·A)ᵀ in each adapted layer (PEFT's
    /// <c>merge_and_unload</c> with fan_in_fan_out) and the adapter's head as <c>score.weight</c>.
    /// </summary>
    public GptRewardModel Merge()
    {
        var merged = new GptRewardModel(Base.Config, Base.Pooling);
        Base.Parameters.Values.CopyTo(merged.Parameters.Values);
        foreach (var layer in Layers) AddDelta(layer, merged.Parameters[layer.Module + ".weight"].Data, Settings.Scaling);
        ScoreWeight.Data.CopyTo(merged.ScoreWeight.Data);
        return merged;
    }

    /// <summary>
    /// Folds the adapters into <see cref="Base"/> itself (no copy: for loading an adapter to score with) and returns it;
    /// this adapter model must not be used afterwards.
    /// </summary>
    internal GptRewardModel MergeIntoBase()
    {
        foreach (var layer in Layers) AddDelta(layer, layer.Weight.Data, Settings.Scaling);
        ScoreWeight.Data.CopyTo(Base.ScoreWeight.Data);
        return Base;
    }

    /// <summary>W (in, out) += scaling · (B · A)ᵀ, i.e. W[i, o] += scaling · Σ_k B[o, k] · A[k, i], summed in double.</summary>
    internal static void AddDelta(LoraLayer layer, Span<float> weight, float scaling)
    {
        int rank = layer.A.Dim(0), fanIn = layer.A.Dim(1), fanOut = layer.B.Dim(0);
        ReadOnlySpan<float> a = layer.A.Data, b = layer.B.Data;
        for (int i = 0; i < fanIn; i++)
            for (int o = 0; o < fanOut; o++)
            {
                double sum = 0;
                for (int k = 0; k < rank; k++) sum += (double)b[o * rank + k] * a[k * fanIn + i];
                weight[i * fanOut + o] += (float)(scaling * sum);
            }
    }

    /// <summary>The base's Conv1D layers as (module name, weight), in parameter order.</summary>
    static IEnumerable<(string Module, Tensor Weight)> ConvLayers(GptRewardModel model)
    {
        for (int i = 0; i < model.Blocks.Count; i++)
        {
            var block = model.Blocks[i];
            string prefix = $"{GptTransformer.Prefix}h.{i}.";
            yield return (prefix + "attn.c_attn", block.Attention.QkvWeight);
            yield return (prefix + "attn.c_proj", block.Attention.ProjectionWeight);
            yield return (prefix + "mlp.c_fc", block.Mlp.FcWeight);
            yield return (prefix + "mlp.c_proj", block.Mlp.ProjectionWeight);
        }
    }
}
