// Shapes: B batch, T time (padded length), C channels (n_embd), NH heads, hs = C / NH, V vocabulary, N selected rows.
using RewardKit.Tensors;

namespace RewardKit.Models;

/// <summary>
/// The GPT-2 transformer body (Hugging Face's <c>GPT2Model</c>) that the reward model and the language model share:
/// <code>
/// h = wte[ids] + wpe[0..T)                          (B, T, C)
/// for each block: h = h + attn(ln_1(h)); h = h + mlp(ln_2(h))
/// out = ln_f(h)                                     (B, T, C)
/// </code>
/// Its parameters are declared into the owner's <see cref="ParameterSet"/> under <c>transformer.</c> (in the order
/// wte, wpe, h.0 … h.{L−1}, ln_f), so each head model stays one buffer with Hugging Face names.
/// </summary>
public sealed class GptTransformer
{
    /// <summary>The name prefix of the body's parameters (as in <c>GPT2ForSequenceClassification</c> and <c>GPT2LMHeadModel</c>).</summary>
    public const string Prefix = "transformer.";

    readonly int[] _positionIds;
    readonly string _owner;

    /// <summary>Declares the body's parameters into <paramref name="parameters"/>; <paramref name="owner"/> names the model in errors.</summary>
    internal GptTransformer(ParameterSet.Builder parameters, GptConfig config, string owner)
    {
        Config = config;
        _owner = owner;
        int c = config.EmbeddingSize;
        TokenEmbedding = parameters.Add(Prefix + "wte.weight", [config.VocabSize, c]);
        PositionEmbedding = parameters.Add(Prefix + "wpe.weight", [config.Positions, c]);
        var blocks = new GptBlock[config.Layers];
        for (int i = 0; i < blocks.Length; i++) blocks[i] = new GptBlock(parameters, $"{Prefix}h.{i}.", config);
        Blocks = blocks;
        FinalNormWeight = parameters.Add(Prefix + "ln_f.weight", [c], weightDecay: false);
        FinalNormBias = parameters.Add(Prefix + "ln_f.bias", [c], weightDecay: false);
        _positionIds = Enumerable.Range(0, config.Positions).ToArray();
    }

    /// <summary>The model's shape.</summary>
    public GptConfig Config { get; }

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

    /// <summary>
    /// ln_f of the final hidden state at <paramref name="rows"/> of the B·T positions (row b·T + t is token t of row b).
    /// With <paramref name="lastBlockOnRowsOnly"/> the last block's position-wise layers run on those rows alone
    /// (see <see cref="GptBlock.ForwardRows"/>): the same values, less work, unless residual dropout is on in training.
    /// </summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded token ids and the real length of each row.</param>
    /// <param name="rows">Flat indices into the B·T positions.</param>
    /// <param name="lastBlockOnRowsOnly">Skip the last block's work on the other rows.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <returns>(N, C).</returns>
    public Tensor FinalHiddenRows(Tape tape, TokenBatch batch, int[] rows, bool lastBlockOnRowsOnly = true, bool training = false,
        Rng? dropoutRng = null, IConv1DKernel? conv1D = null)
        => HiddenRows(tape, batch, rows, lastBlockOnRowsOnly, training, dropoutRng, conv1D, cache: null);

    /// <summary>
    /// Generation's prefill: <see cref="FinalHiddenRows"/> of the prompts (inference, no dropout) that also stores every
    /// layer's keys and values of sequence b in slot b of <paramref name="cache"/> and sets its length to the prompt's.
    /// </summary>
    /// <returns>(N, C).</returns>
    internal Tensor Prefill(Tape tape, TokenBatch prompts, int[] rows, KvCache cache, IConv1DKernel? conv1D)
    {
        var hidden = HiddenRows(tape, prompts, rows, lastBlockOnRowsOnly: true, training: false, dropoutRng: null, conv1D, cache);
        prompts.Lengths.CopyTo(cache.Lengths, 0);
        return hidden;
    }

    /// <summary>
    /// Generation's decode step: ln_f of the final hidden state of one new token per sequence, attending over the
    /// sequence's cached keys and values (which it extends); each sequence's position is its slot's length, which then grows by one.
    /// </summary>
    /// <param name="tape">An inference tape.</param>
    /// <param name="tokens">(A) the new token of each sequence.</param>
    /// <param name="slots">(A) each sequence's cache slot.</param>
    /// <param name="cache">The cache.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <returns>(A, C).</returns>
    internal Tensor Decode(Tape tape, int[] tokens, int[] slots, KvCache cache, IConv1DKernel? conv1D)
    {
        int a = tokens.Length;
        var positions = new int[a];
        var keyCounts = new int[a];
        for (int i = 0; i < a; i++)
        {
            positions[i] = cache.Lengths[slots[i]];
            if (positions[i] >= cache.Capacity)
                throw new InvalidOperationException($"{_owner}: cache slot {slots[i]} is full ({cache.Capacity} tokens); stop the sequence or make a larger cache.");
            keyCounts[i] = positions[i] + 1;
        }
        var step = new DecodePositions(slots, positions, keyCounts);
        var h = tape.Add(tape.Embedding(TokenEmbedding, tokens, [a]), tape.Embedding(PositionEmbedding, positions, [a]));   // (A, C)
        for (int i = 0; i < Blocks.Count; i++) h = Blocks[i].Decode(tape, h, cache, i, step, conv1D);               // (A, C)
        foreach (int slot in slots) cache.Lengths[slot]++;
        return tape.LayerNorm(h, FinalNormWeight, FinalNormBias, Config.LayerNormEpsilon);                          // (A, C)
    }

    Tensor HiddenRows(Tape tape, TokenBatch batch, int[] rows, bool lastBlockOnRowsOnly, bool training, Rng? dropoutRng,
        IConv1DKernel? conv1D, KvCache? cache)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var (h, keyMask, dropout) = Embed(tape, batch, training, dropoutRng);              // (B, T, C)
        int B = batch.Batch, T = batch.Time, C = Config.EmbeddingSize;
        bool rowsOnly = lastBlockOnRowsOnly && !(dropout.Training && Config.ResidualDropout > 0);
        h = RunBlocks(tape, h, keyMask, dropout, Blocks.Count - (rowsOnly ? 1 : 0), conv1D, cache);   // (B, T, C)
        var picked = rowsOnly
            ? Blocks[^1].ForwardRows(tape, h, keyMask, rows, conv1D, cache, Blocks.Count - 1)   // (N, C)
            : tape.GatherRows(h.Reshape(B * T, C), rows);
        return tape.LayerNorm(picked, FinalNormWeight, FinalNormBias, Config.LayerNormEpsilon);   // (N, C)
    }

    /// <summary>
    /// The logits of the language-model head tied to the token table (GPT2LMHeadModel's <c>lm_head</c>) at
    /// <paramref name="rows"/>: ln_f(h)[rows] · wteᵀ. See <see cref="FinalHiddenRows"/> for the arguments.
    /// </summary>
    /// <returns>(N, V).</returns>
    public Tensor TiedHeadLogits(Tape tape, TokenBatch batch, int[] rows, bool training = false, Rng? dropoutRng = null, IConv1DKernel? conv1D = null)
    {
        var hidden = FinalHiddenRows(tape, batch, rows, lastBlockOnRowsOnly: true, training, dropoutRng, conv1D);   // (N, C)
        return tape.Linear(hidden, TokenEmbedding, null);                                                        // (N, V)
    }

    /// <summary>
    /// The causal language-modelling loss with the head tied to the token table: mean over real positions t &lt; length − 1
    /// of −log softmax(ln_f(h_t) · wteᵀ)[id_{t+1}], optionally only on positions that predict a response token (SFT).
    /// Only the rows that predict a token reach the loss: the last block's position-wise layers, ln_f and the (N, V)
    /// logits run on those alone.
    /// </summary>
    /// <param name="tape">Records the step.</param>
    /// <param name="batch">(B, T) right-padded ids; with <paramref name="responseOnly"/>, ResponseStart is required.</param>
    /// <param name="responseOnly">Predict only the response tokens, not the prompt's.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <returns>The scalar loss.</returns>
    public Tensor LanguageModelLoss(Tape tape, TokenBatch batch, bool responseOnly = false, bool training = false, Rng? dropoutRng = null,
        IConv1DKernel? conv1D = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Validate();
        if (responseOnly && batch.ResponseStart is null)
            throw new ArgumentException($"{_owner}: a response-only language-model loss needs TokenBatch.ResponseStart.", nameof(batch));
        int B = batch.Batch, T = batch.Time;
        var rows = new List<int>();
        var targets = new List<int>();
        for (int b = 0; b < B; b++)
        {
            int first = responseOnly ? Math.Max(0, batch.ResponseStart![b] - 1) : 0;
            for (int t = first; t < batch.Lengths[b] - 1; t++) { rows.Add(b * T + t); targets.Add(batch.Ids[b * T + t + 1]); }
        }
        if (rows.Count == 0) throw new ArgumentException($"{_owner}: no row of the batch has a next token to predict (every sequence is one token long).", nameof(batch));
        var logits = TiedHeadLogits(tape, batch, [.. rows], training, dropoutRng, conv1D);   // (N, V)
        return tape.CrossEntropy(logits, [.. targets]);
    }

    /// <summary>ln_f of the final hidden state at every position (GPT2Model's <c>last_hidden_state</c>).</summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded token ids and the real length of each row.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <returns>(B, T, C).</returns>
    public Tensor FinalHidden(Tape tape, TokenBatch batch, bool training = false, Rng? dropoutRng = null, IConv1DKernel? conv1D = null)
    {
        var (h, keyMask, dropout) = Embed(tape, batch, training, dropoutRng);              // (B, T, C)
        h = RunBlocks(tape, h, keyMask, dropout, Blocks.Count, conv1D, cache: null);
        return tape.LayerNorm(h, FinalNormWeight, FinalNormBias, Config.LayerNormEpsilon);  // (B, T, C)
    }

    /// <summary>
    /// Blocks [0, <paramref name="count"/>) over h. Inference keeps only the residual stream between blocks: each block's
    /// output is copied into one of two buffers and its temporaries go back to the arena, so memory is one block's worth,
    /// not n_layer's.
    /// </summary>
    Tensor RunBlocks(Tape tape, Tensor h, Tensor keyMask, DropoutState dropout, int count, IConv1DKernel? conv1D, KvCache? cache)
    {
        if (tape.RecordsGradients)
        {
            for (int i = 0; i < count; i++) h = Blocks[i].Forward(tape, h, keyMask, dropout, conv1D, cache, i);   // (B, T, C)
            return h;
        }
        if (count == 0) return h;
        var next = tape.Empty(h.Shape);
        var spare = tape.Empty(h.Shape);
        for (int i = 0; i < count; i++)
        {
            var mark = tape.Arena.Mark();
            Blocks[i].Forward(tape, h, keyMask, dropout, conv1D, cache, i).Data.CopyTo(next.Data);
            tape.Arena.Release(mark);
            h = next;
            (next, spare) = (spare, next);
        }
        return h;
    }

    /// <summary>
    /// Checks the batch and the dropout settings, then returns dropout(wte[ids] + wpe[0..T)) (B, T, C), the (B, T) key mask
    /// (1 real, 0 pad) and the dropout state.
    /// </summary>
    (Tensor H, Tensor KeyMask, DropoutState Dropout) Embed(Tape tape, TokenBatch batch, bool training, Rng? dropoutRng)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(batch);
        batch.Validate();
        int B = batch.Batch, T = batch.Time;
        if (T > Config.Positions)
            throw new ArgumentException($"{_owner}: sequences of {T} tokens exceed n_positions = {Config.Positions}; truncate them to at most {Config.Positions} tokens.", nameof(batch));
        bool dropoutOn = training && (Config.EmbeddingDropout > 0 || Config.ResidualDropout > 0 || Config.AttentionDropout > 0);
        if (dropoutOn && Config.AttentionDropout > 0)
            throw new NotSupportedException($"{_owner}: attention dropout (attn_pdrop = {Config.AttentionDropout}) is not implemented by the fused attention; set attn_pdrop to 0 or train without dropout.");
        if (dropoutOn && dropoutRng is null)
            throw new ArgumentException($"{_owner}: training with dropout needs a dropout Rng.", nameof(dropoutRng));
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
    /// Hugging Face's GPT-2 initialisation of one parameter by its name: weights N(0, std²) (initializer_range), <c>c_proj</c>
    /// weights N(0, (std/√(2·n_layer))²), biases 0, LayerNorm weights 1.
    /// </summary>
    internal static void InitializeByName(GptConfig config, string name, Span<float> data, Rng rng)
    {
        float std = config.InitializerRange;
        if (name.EndsWith(".bias", StringComparison.Ordinal)) data.Clear();
        else if (name.Contains(".ln_", StringComparison.Ordinal)) data.Fill(1f);
        else if (name.EndsWith("c_proj.weight", StringComparison.Ordinal)) rng.FillNormal(data, 0, std / MathF.Sqrt(2f * config.Layers));
        else rng.FillNormal(data, 0, std);
    }

    /// <summary>
    /// The model name of a checkpoint tensor: names under <c>transformer.</c> are kept; bare <c>GPT2Model</c> names
    /// (<c>wte.</c>, <c>wpe.</c>, <c>h.</c>, <c>ln_f.</c>) gain the prefix; anything else is null (a head's tensor).
    /// </summary>
    internal static string? BodyName(string checkpointName) =>
        checkpointName.StartsWith(Prefix, StringComparison.Ordinal) ? checkpointName
        : checkpointName.StartsWith("wte.", StringComparison.Ordinal) || checkpointName.StartsWith("wpe.", StringComparison.Ordinal)
          || checkpointName.StartsWith("h.", StringComparison.Ordinal) || checkpointName.StartsWith("ln_f.", StringComparison.Ordinal)
            ? Prefix + checkpointName : null;
}
