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
    public const string BackbonePrefix = "transformer.";

    /// <summary>The name of the reward head's weight, (1, C).</summary>
    public const string ScoreWeightName = "score.weight";

    readonly int[] _positionIds;

    /// <summary>Builds the model with zero parameters; call <see cref="Initialize"/> or load weights.</summary>
    public GptRewardModel(GptConfig config, RewardPooling pooling = RewardPooling.LastToken)
    {
        Config = (config ?? throw new ArgumentNullException(nameof(config))).Validate();
        Pooling = pooling;
        int c = config.EmbeddingSize;
        var p = new ParameterSet.Builder();
        TokenEmbedding = p.Add(BackbonePrefix + "wte.weight", [config.VocabSize, c]);
        PositionEmbedding = p.Add(BackbonePrefix + "wpe.weight", [config.Positions, c]);
        var blocks = new GptBlock[config.Layers];
        for (int i = 0; i < blocks.Length; i++) blocks[i] = new GptBlock(p, $"{BackbonePrefix}h.{i}.", config);
        Blocks = blocks;
        FinalNormWeight = p.Add(BackbonePrefix + "ln_f.weight", [c], weightDecay: false);
        FinalNormBias = p.Add(BackbonePrefix + "ln_f.bias", [c], weightDecay: false);
        ScoreWeight = p.Add(ScoreWeightName, [1, c]);
        Parameters = p.Build();
        _positionIds = Enumerable.Range(0, config.Positions).ToArray();
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

    /// <summary><c>transformer.wte.weight</c> (V, C).</summary>
    public Tensor TokenEmbedding { get; }

    /// <summary><c>transformer.wpe.weight</c> (n_positions, C).</summary>
    public Tensor PositionEmbedding { get; }

    /// <summary>The transformer blocks <c>transformer.h.{i}</c>.</summary>
    public IReadOnlyList<GptBlock> Blocks { get; }

    /// <summary><c>transformer.ln_f.weight</c> (C).</summary>
    public Tensor FinalNormWeight { get; }

    /// <summary><c>transformer.ln_f.bias</c> (C).</summary>
    public Tensor FinalNormBias { get; }

    /// <summary><c>score.weight</c> (1, C): the reward head, Linear(C, 1) without bias.</summary>
    public Tensor ScoreWeight { get; }

    /// <summary>
    /// Hugging Face's GPT-2 initialisation: every weight N(0, 0.02²) (initializer_range), the two <c>c_proj</c> weights of
    /// each block N(0, (0.02/√(2·n_layer))²), biases 0, LayerNorm weights 1 and biases 0. Parameters are drawn in
    /// declaration order, so a seed gives the same model everywhere.
    /// </summary>
    public void Initialize(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        float std = Config.InitializerRange;
        float projectionStd = std / MathF.Sqrt(2f * Config.Layers);
        foreach (var e in Parameters.Entries)
            InitializeByName(e.Name, e.Tensor.Data, rng, std, projectionStd);
    }

    /// <summary>Initialises one parameter by its name (used for tensors a checkpoint does not have).</summary>
    internal void InitializeParameter(string name, Rng rng)
    {
        float std = Config.InitializerRange;
        InitializeByName(name, Parameters[name].Data, rng, std, std / MathF.Sqrt(2f * Config.Layers));
    }

    static void InitializeByName(string name, Span<float> data, Rng rng, float std, float projectionStd)
    {
        if (name.EndsWith(".bias", StringComparison.Ordinal)) data.Clear();
        else if (IsLayerNorm(name)) data.Fill(1f);
        else if (name.EndsWith("c_proj.weight", StringComparison.Ordinal)) rng.FillNormal(data, 0, projectionStd);
        else rng.FillNormal(data, 0, std);
    }

    static bool IsLayerNorm(string name) => name.Contains(".ln_", StringComparison.Ordinal);

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
        if (Pooling == RewardPooling.MeanResponse && batch.ResponseStart is null)
            throw new ArgumentException("GptRewardModel: mean pooling over the response needs TokenBatch.ResponseStart (the first response token of each row).", nameof(batch));
        var (h, keyMask, dropout) = Embed(tape, batch, training, dropoutRng);            // (B, T, C)
        int B = batch.Batch, T = batch.Time, C = Config.EmbeddingSize;
        // The last block runs only on the rows the reward reads when nothing else needs its other rows (see ForwardRows).
        bool lastRowsOnly = ComputeLastBlockOnRewardRowsOnly && Pooling == RewardPooling.LastToken && Blocks.Count > 0
            && !(dropout.Training && Config.ResidualDropout > 0);
        int fullBlocks = lastRowsOnly ? Blocks.Count - 1 : Blocks.Count;
        if (tape.RecordsGradients)
            for (int i = 0; i < fullBlocks; i++) h = Blocks[i].Forward(tape, h, keyMask, dropout, Conv1DKernel); // (B, T, C)
        else
        {
            // Inference keeps only the residual stream between blocks: each block's output is copied into one of two
            // buffers and its temporaries go back to the arena, so memory is one block's worth, not n_layer's.
            var next = tape.Empty([B, T, C]);
            var spare = tape.Empty([B, T, C]);
            for (int i = 0; i < fullBlocks; i++)
            {
                var mark = tape.Arena.Mark();
                Blocks[i].Forward(tape, h, keyMask, dropout, Conv1DKernel).Data.CopyTo(next.Data);
                tape.Arena.Release(mark);
                h = next;
                (next, spare) = (spare, next);
            }
        }

        float eps = Config.LayerNormEpsilon;
        if (lastRowsOnly)
        {
            var last = Blocks[^1].ForwardRows(tape, h, keyMask, batch.LastTokenRows(), Conv1DKernel);   // (B, C)
            var normed = tape.LayerNorm(last, FinalNormWeight, FinalNormBias, eps);                   // (B, C)
            return tape.Linear(normed, ScoreWeight, null).Reshape(B);                                 // (B)
        }
        if (Pooling == RewardPooling.LastToken)
        {
            // ln_f and score are per-token, so reading the last real row first computes the same reward on B rows, not B·T.
            var last = tape.GatherRows(h.Reshape(B * T, C), batch.LastTokenRows());       // (B, C)
            var normed = tape.LayerNorm(last, FinalNormWeight, FinalNormBias, eps);       // (B, C)
            return tape.Linear(normed, ScoreWeight, null).Reshape(B);                     // (B)
        }

        var all = tape.LayerNorm(h, FinalNormWeight, FinalNormBias, eps);                 // (B, T, C)
        var perToken = tape.Linear(all, ScoreWeight, null).Reshape(B, T);                 // (B, T)
        var weights = tape.Zeros([B, T]);                                                 // (B, T) 1/|response| on response tokens
        for (int b = 0; b < B; b++)
        {
            int start = batch.ResponseStart![b], count = batch.Lengths[b] - start;
            weights.Data.Slice(b * T + start, count).Fill(1f / count);
        }
        return tape.Sum(tape.Mul(perToken, weights), axis: 1);                            // (B)
    }

    /// <summary>
    /// Checks the batch and the dropout settings, then returns dropout(wte[ids] + wpe[0..T)) (B, T, C), the (B, T) key mask
    /// (1 real, 0 pad) and the dropout state: the start shared by <see cref="Forward"/> and <see cref="LanguageModelLoss"/>.
    /// </summary>
    (Tensor H, Tensor KeyMask, DropoutState Dropout) Embed(Tape tape, TokenBatch batch, bool training, Rng? dropoutRng)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(batch);
        batch.Validate();
        int B = batch.Batch, T = batch.Time;
        if (T > Config.Positions)
            throw new ArgumentException($"GptRewardModel: sequences of {T} tokens exceed n_positions = {Config.Positions}; truncate them to at most {Config.Positions} tokens.", nameof(batch));
        bool dropoutOn = training && (Config.EmbeddingDropout > 0 || Config.ResidualDropout > 0 || Config.AttentionDropout > 0);
        if (dropoutOn && Config.AttentionDropout > 0)
            throw new NotSupportedException($"GptRewardModel: attention dropout (attn_pdrop = {Config.AttentionDropout}) is not implemented by the fused attention; set attn_pdrop to 0 or train without dropout.");
        if (dropoutOn && dropoutRng is null)
            throw new ArgumentException("GptRewardModel: training with dropout needs a dropout Rng.", nameof(dropoutRng));
        var dropout = new DropoutState(training, dropoutRng);
        var keyMask = tape.Empty([B, T]);                                                 // (B, T) 1 real, 0 pad
        batch.AttentionMask(keyMask.Data);
        var tokens = tape.Embedding(TokenEmbedding, batch.Ids, [B, T]);                   // (B, T, C)
        var positions = tape.Embedding(PositionEmbedding, _positionIds[..T], [T]);         // (T, C)
        var h = dropout.Apply(tape, tape.Add(tokens, positions), Config.EmbeddingDropout); // (B, T, C)
        tape.Release(tokens);                                                            // no backward reads its values
        return (h, keyMask, dropout);
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
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (responseOnly && batch.ResponseStart is null)
            throw new ArgumentException("GptRewardModel: a response-only language-model loss needs TokenBatch.ResponseStart.", nameof(batch));
        var (h, keyMask, dropout) = Embed(tape, batch, training, dropoutRng);            // (B, T, C)
        int B = batch.Batch, T = batch.Time, C = Config.EmbeddingSize;
        // Only the rows that predict a token reach the loss: the last block's position-wise layers (as in Forward), ln_f and
        // the (rows, V) logits run on those alone.
        var rows = new List<int>();
        var targets = new List<int>();
        for (int b = 0; b < B; b++)
        {
            int first = responseOnly ? Math.Max(0, batch.ResponseStart![b] - 1) : 0;
            for (int t = first; t < batch.Lengths[b] - 1; t++) { rows.Add(b * T + t); targets.Add(batch.Ids[b * T + t + 1]); }
        }
        if (rows.Count == 0) throw new ArgumentException("GptRewardModel: no row of the batch has a next token to predict (every sequence is one token long).", nameof(batch));
        bool lastRowsOnly = Blocks.Count > 0 && !(dropout.Training && Config.ResidualDropout > 0);
        for (int i = 0; i < Blocks.Count - (lastRowsOnly ? 1 : 0); i++) h = Blocks[i].Forward(tape, h, keyMask, dropout, Conv1DKernel);
        var picked = lastRowsOnly
            ? Blocks[^1].ForwardRows(tape, h, keyMask, [.. rows], Conv1DKernel)                         // (N, C)
            : tape.GatherRows(h.Reshape(B * T, C), [.. rows]);
        var normed = tape.LayerNorm(picked, FinalNormWeight, FinalNormBias, Config.LayerNormEpsilon);   // (N, C)
        var logits = tape.Linear(normed, TokenEmbedding, null);                                         // (N, V)
        return tape.CrossEntropy(logits, [.. targets]);
    }

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
