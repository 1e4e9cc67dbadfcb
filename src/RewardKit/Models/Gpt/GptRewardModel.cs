// Shapes: B batch, T time (padded length), C channels (n_embd), NH heads, hs = C / NH, V vocabulary.
using RewardKit.Tensors;

namespace RewardKit.Models;

/// <summary>Where the reward is read from the final hidden states.</summary>
public enum RewardPooling
{
    /// <summary>
    /// At each row's last real token, found from its length (as <c>GPT2ForSequenceClassification</c> intends; never by
    /// searching for the pad id, which breaks when pad == EOS, huggingface/trl#937).
    /// </summary>
    LastToken,

    /// <summary>The mean of the per-token rewards over the response tokens [ResponseStart, Length) of each row.</summary>
    MeanResponse,
}

/// <summary>
/// A GPT-2 reward model computing exactly what Hugging Face's <c>GPT2ForSequenceClassification</c> with one label does:
/// <code>
/// h = wte[ids] + wpe[0..T)                          (B, T, C)
/// for each block: h = h + attn(ln_1(h)); h = h + mlp(ln_2(h))
/// r = score(ln_f(h))[b, Length[b] − 1]               (B)       score: Linear(C, 1, no bias)
/// </code>
/// Parameters live in one <see cref="ParameterSet"/> under Hugging Face's names (<c>transformer.h.0.attn.c_attn.weight</c>,
/// Conv1D layout [in, out]; <c>score.weight</c> (1, C)), so a checkpoint is a copy. Biases and LayerNorm weights take no
/// weight decay (the Hugging Face/TRL default); embeddings, Conv1D weights and the score do.
/// Forward is safe to call from several threads at once, each with its own <see cref="Tape"/>.
/// </summary>
public sealed class GptRewardModel
{
    /// <summary>The name prefix of the backbone's parameters (as in <c>GPT2ForSequenceClassification</c>).</summary>
    public const string BackbonePrefix = GptTransformer.Prefix;

    /// <summary>The name of the reward head's weight, (1, C).</summary>
    public const string ScoreWeightName = "score.weight";

    /// <summary>
    /// Builds the model with zero parameters; call <see cref="Initialize"/> or load weights. With <paramref name="outputs"/>
    /// K &gt; 1 the head is (K, C), one reward per objective (read with <see cref="ForwardOutputs"/>).
    /// </summary>
    public GptRewardModel(GptConfig config, RewardPooling pooling = RewardPooling.LastToken, int outputs = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        Config = (config ?? throw new ArgumentNullException(nameof(config))).Validate();
        Pooling = pooling;
        var p = new ParameterSet.Builder();
        Transformer = new GptTransformer(p, config, nameof(GptRewardModel));
        ScoreWeight = p.Add(ScoreWeightName, [outputs, config.EmbeddingSize]);
        Parameters = p.Build();
    }

    /// <summary>A model initialised as Hugging Face initialises GPT-2, from <paramref name="seed"/>.</summary>
    public static GptRewardModel Create(GptConfig config, ulong seed, RewardPooling pooling = RewardPooling.LastToken)
    {
        var model = new GptRewardModel(config, pooling);
        model.Initialize(new Rng(seed));
        return model;
    }

    /// <summary>The model's shape.</summary>
    public GptConfig Config { get; }

    /// <summary>Where the reward is read (last real token by default).</summary>
    public RewardPooling Pooling { get; }

    /// <summary>All parameters, in one buffer, under Hugging Face names.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The transformer body <c>transformer.*</c> (shared with <see cref="GptLanguageModel"/>).</summary>
    public GptTransformer Transformer { get; }

    /// <summary><c>transformer.wte.weight</c> (V, C).</summary>
    public Tensor TokenEmbedding => Transformer.TokenEmbedding;

    /// <summary><c>transformer.wpe.weight</c> (n_positions, C).</summary>
    public Tensor PositionEmbedding => Transformer.PositionEmbedding;

    /// <summary>The transformer blocks <c>transformer.h.{i}</c>.</summary>
    public IReadOnlyList<GptBlock> Blocks => Transformer.Blocks;

    /// <summary><c>transformer.ln_f.weight</c> (C).</summary>
    public Tensor FinalNormWeight => Transformer.FinalNormWeight;

    /// <summary><c>transformer.ln_f.bias</c> (C).</summary>
    public Tensor FinalNormBias => Transformer.FinalNormBias;

    /// <summary><c>score.weight</c> (K, C): the reward head, Linear(C, K) without bias (K = 1 but for multi-objective models).</summary>
    public Tensor ScoreWeight { get; }

    /// <summary>K, the head's outputs (1 for a scalar reward model).</summary>
    public int Outputs => ScoreWeight.Dim(0);

    /// <summary>
    /// Hugging Face's GPT-2 initialisation: every weight N(0, 0.02²) (initializer_range), the two <c>c_proj</c> weights of
    /// each block N(0, (0.02/√(2·n_layer))²), biases 0, LayerNorm weights 1 and biases 0. Parameters are drawn in
    /// declaration order, so a seed gives the same model everywhere.
    /// </summary>
    public void Initialize(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        foreach (var e in Parameters.Entries) GptTransformer.InitializeByName(Config, e.Name, e.Tensor.Data, rng);
    }

    /// <summary>Initialises one parameter by its name (used for tensors a checkpoint does not have).</summary>
    internal void InitializeParameter(string name, Rng rng) => GptTransformer.InitializeByName(Config, name, Parameters[name].Data, rng);

    /// <summary>
    /// The reward of every row of <paramref name="batch"/>.
    /// With <paramref name="training"/> set, dropout applies (embedding and residual dropout, masks from
    /// <paramref name="dropoutRng"/>); the fused attention has no probability dropout, so training with
    /// <see cref="GptConfig.AttentionDropout"/> &gt; 0 is refused rather than silently ignored.
    /// </summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded token ids and the real length of each row.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <returns>(B) rewards.</returns>
    public Tensor Forward(Tape tape, TokenBatch batch, bool training = false, Rng? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (Outputs != 1)
            throw new InvalidOperationException($"GptRewardModel: the head has {Outputs} outputs (one per objective); read them with ForwardOutputs and combine them.");
        return Heads(tape, batch, ScoreWeight, Conv1DKernel, training, dropoutRng).Reshape(batch.Batch);   // (B)
    }

    /// <summary>Every output of the head for every row: (B, K), K = <see cref="Outputs"/>; as <see cref="Forward"/> otherwise.</summary>
    /// <returns>(B, K).</returns>
    public Tensor ForwardOutputs(Tape tape, TokenBatch batch, bool training = false, Rng? dropoutRng = null) =>
        Heads(tape, batch, ScoreWeight, Conv1DKernel, training, dropoutRng);

    /// <summary>
    /// Every output of the head read at <paramref name="rows"/> of the B·T positions (row b·T + t is token t of row b),
    /// for a last-token model: GPT-2 is causal, so the outputs at token t of a row are exactly those of the row's first
    /// t + 1 tokens scored alone (one forward pass gives the reward of every prefix, e.g. every turn of a conversation).
    /// Inference only (no dropout).
    /// </summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded token ids and the real length of each row.</param>
    /// <param name="rows">(N) flat indices b·T + t with t &lt; Lengths[b].</param>
    /// <returns>(N, K).</returns>
    public Tensor ForwardOutputsAt(Tape tape, TokenBatch batch, int[] rows)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(rows);
        if (Pooling != RewardPooling.LastToken)
            throw new InvalidOperationException("GptRewardModel: rewards at chosen positions need last-token pooling (a mean-pooled model reads one reward per row).");
        foreach (int row in rows)
            if (row < 0 || row >= batch.Batch * batch.Time || row % batch.Time >= batch.Lengths[row / batch.Time])
                throw new ArgumentOutOfRangeException(nameof(rows), row, "a position outside the real tokens of its row.");
        var hidden = Transformer.FinalHiddenRows(tape, batch, rows, ComputeLastBlockOnRewardRowsOnly, training: false, dropoutRng: null, Conv1DKernel);   // (N, C)
        return tape.Linear(hidden, ScoreWeight, null);                                                                                                 // (N, K)
    }

    /// <summary>
    /// The outputs of a head <paramref name="head"/> (K, C) over the backbone with its Conv1D layers applied by
    /// <paramref name="conv1D"/>, pooled as <see cref="Pooling"/> says: what <see cref="Forward"/> computes with
    /// <see cref="ScoreWeight"/>, for adapters and multi-head models that bring their own head or Conv1D path.
    /// </summary>
    /// <returns>(B, K).</returns>
    internal Tensor Heads(Tape tape, TokenBatch batch, Tensor head, IConv1DKernel? conv1D, bool training, Rng? dropoutRng)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (Pooling == RewardPooling.MeanResponse && batch.ResponseStart is null)
            throw new ArgumentException("GptRewardModel: mean pooling over the response needs TokenBatch.ResponseStart (the first response token of each row).", nameof(batch));
        int B = batch.Batch, T = batch.Time, K = head.Dim(0);
        if (Pooling == RewardPooling.LastToken)
        {
            // ln_f and score are per-token, so reading the last real row first computes the same reward on B rows, not B·T;
            // the last block too, optionally (see ComputeLastBlockOnRewardRowsOnly).
            var last = Transformer.FinalHiddenRows(tape, batch, batch.LastTokenRows(), ComputeLastBlockOnRewardRowsOnly,
                training, dropoutRng, conv1D);                                            // (B, C)
            return tape.Linear(last, head, null);                                         // (B, K)
        }

        var all = Transformer.FinalHidden(tape, batch, training, dropoutRng, conv1D);     // (B, T, C)
        var perToken = tape.Linear(all, head, null).Reshape(B, T, K);                     // (B, T, K)
        var weights = tape.Zeros([B, T, 1]);                                              // (B, T, 1) 1/|response| on response tokens
        for (int b = 0; b < B; b++)
        {
            int start = batch.ResponseStart![b], count = batch.Lengths[b] - start;
            weights.Data.Slice(b * T + start, count).Fill(1f / count);
        }
        return tape.Sum(tape.Mul(perToken, weights), axis: 1);                            // (B, K)
    }

    /// <summary>
    /// The causal language-modelling loss of the backbone with the head tied to the token table (GPT2LMHeadModel's
    /// <c>lm_head</c>): mean over real positions t &lt; length − 1 of −log softmax(ln_f(h_t) · wteᵀ)[id_{t+1}], optionally only
    /// on positions that predict a response token. Used to warm-start a reward model from scratch on its own training
    /// texts, as InstructGPT starts its reward model from the SFT model. The score head gets no gradient.
    /// </summary>
    /// <param name="tape">Records the step.</param>
    /// <param name="batch">(B, T) right-padded ids; with <paramref name="responseOnly"/>, ResponseStart is required.</param>
    /// <param name="responseOnly">Predict only the response tokens (SFT), not the prompt's.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <returns>The scalar loss.</returns>
    public Tensor LanguageModelLoss(Tape tape, TokenBatch batch, bool responseOnly = false, bool training = false, Rng? dropoutRng = null)
        => Transformer.LanguageModelLoss(tape, batch, responseOnly, training, dropoutRng, Conv1DKernel);

    /// <summary>
    /// How the blocks apply their Conv1D layers: null (default) is the engine's float op; an inference-only kernel such as
    /// the int8 one set by the model loader for a quantised folder. Set it before the model is shared between threads.
    /// </summary>
    public IConv1DKernel? Conv1DKernel { get; set; }

    /// <summary>
    /// With last-token pooling, run the last block's position-wise layers (attention output projection, MLP, residual adds,
    /// ln_2) only on the B rows the reward is read from: the other B·T − B rows of the last block reach no output, so they
    /// are dead work (for the <c>small</c> preset about a sixth of a training step, for <c>tiny</c> a third). Rewards are bit
    /// for bit those of the full computation; gradients agree to float rounding (the weight gradients sum over fewer, nonzero
    /// rows). Skipped when residual dropout is on in training. Default true; false computes every row, as Hugging Face does.
    /// </summary>
    public bool ComputeLastBlockOnRewardRowsOnly { get; set; } = true;

    /// <summary>The number of scalar parameters.</summary>
    public int ParameterCount => Parameters.Count;
}
