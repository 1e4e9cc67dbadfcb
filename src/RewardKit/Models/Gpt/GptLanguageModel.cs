// Shapes: B batch, T time (padded length), C channels (n_embd), V vocabulary, N selected rows, R longest response,
// A sequences still generating, S cache slots.
using RewardKit.Tensors;

namespace RewardKit.Models;

/// <summary>
/// A GPT-2 causal language model computing exactly what Hugging Face's <c>GPT2LMHeadModel</c> computes, the policy of RLHF:
/// <code>
/// h = ln_f(transformer(ids))                        (B, T, C)   the body shared with GptRewardModel
/// logits = h · wteᵀ                                 (B, T, V)   lm_head tied to the token table (no separate tensor)
/// </code>
/// Parameters live in one <see cref="ParameterSet"/> under Hugging Face's names (<c>transformer.h.0.attn.c_attn.weight</c>,
/// Conv1D layout [in, out]); there is no <c>lm_head.weight</c>: the head is <c>transformer.wte.weight</c>.
/// <para>Three uses:</para>
/// <list type="bullet">
/// <item>Training (SFT): <see cref="LanguageModelLoss"/>.</item>
/// <item>RL scoring: <see cref="ResponseLogProbs"/>, the per-token log-probs (and entropy) of given responses, on the tape
/// with gradients, or on an inference tape (<see cref="Tape.RecordsGradients"/> off) for a frozen reference policy or for
/// the rollout's old log-probs.</item>
/// <item>Generation with a KV cache: <see cref="Prefill"/> then <see cref="DecodeStep"/>, driven by
/// <see cref="Generation.TokenGenerator"/>.</item>
/// </list>
/// Forward passes are safe to call from several threads at once, each with its own <see cref="Tape"/> (and cache).
/// </summary>
public sealed class GptLanguageModel
{
    /// <summary>The architecture name written to <c>config.json</c>.</summary>
    public const string Architecture = "GPT2LMHeadModel";

    /// <summary>Builds the model with zero parameters; call <see cref="Initialize"/> or load weights.</summary>
    public GptLanguageModel(GptConfig config)
    {
        Config = (config ?? throw new ArgumentNullException(nameof(config))).Validate();
        var p = new ParameterSet.Builder();
        Transformer = new GptTransformer(p, config, nameof(GptLanguageModel));
        Parameters = p.Build();
    }

    /// <summary>A model initialised as Hugging Face initialises GPT-2, from <paramref name="seed"/>.</summary>
    public static GptLanguageModel Create(GptConfig config, ulong seed)
    {
        var model = new GptLanguageModel(config);
        model.Initialize(new Rng(seed));
        return model;
    }

    /// <summary>The model's shape.</summary>
    public GptConfig Config { get; }

    /// <summary>All parameters, in one buffer, under Hugging Face names (the transformer body's only).</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The transformer body <c>transformer.*</c> (shared with <see cref="GptRewardModel"/>).</summary>
    public GptTransformer Transformer { get; }

    /// <summary><c>transformer.wte.weight</c> (V, C): the token table and, tied, the output head.</summary>
    public Tensor TokenEmbedding => Transformer.TokenEmbedding;

    /// <summary>The number of scalar parameters.</summary>
    public int ParameterCount => Parameters.Count;

    /// <summary>
    /// How the blocks apply their Conv1D layers: null (default) is the engine's float op; an inference-only kernel
    /// (e.g. int8) otherwise. Set it before the model is shared between threads.
    /// </summary>
    public IConv1DKernel? Conv1DKernel { get; set; }

    /// <summary>Hugging Face's GPT-2 initialisation, drawn in declaration order (as <see cref="GptRewardModel.Initialize"/>).</summary>
    public void Initialize(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        foreach (var e in Parameters.Entries) GptTransformer.InitializeByName(Config, e.Name, e.Tensor.Data, rng);
    }

    /// <summary>A copy with its own parameters (e.g. the frozen reference policy of PPO); gradients are not copied.</summary>
    public GptLanguageModel Clone()
    {
        var copy = new GptLanguageModel(Config) { Conv1DKernel = Conv1DKernel };
        Parameters.Values.CopyTo(copy.Parameters.Values);
        return copy;
    }

    /// <summary>The logits at <paramref name="rows"/> of the B·T positions (row b·T + t predicts token t + 1 of row b).</summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded ids.</param>
    /// <param name="rows">Flat indices into the B·T positions.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <returns>(N, V).</returns>
    public Tensor Logits(Tape tape, TokenBatch batch, int[] rows, bool training = false, Rng? dropoutRng = null) =>
        Transformer.TiedHeadLogits(tape, batch, rows, training, dropoutRng, Conv1DKernel);

    /// <summary>
    /// The causal language-modelling loss: the mean over real positions of −log p(next token), optionally only over
    /// response tokens (SFT on prompt/response records). See <see cref="GptTransformer.LanguageModelLoss"/>.
    /// </summary>
    /// <param name="tape">Records the step.</param>
    /// <param name="batch">(B, T) right-padded ids; with <paramref name="responseOnly"/>, ResponseStart is required.</param>
    /// <param name="responseOnly">Predict only the response tokens.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <returns>The scalar loss.</returns>
    public Tensor LanguageModelLoss(Tape tape, TokenBatch batch, bool responseOnly = false, bool training = false, Rng? dropoutRng = null) =>
        Transformer.LanguageModelLoss(tape, batch, responseOnly, training, dropoutRng, Conv1DKernel);

    /// <summary>
    /// The per-token log-probabilities of each row's response tokens under the policy at <paramref name="temperature"/>
    /// (log softmax(logits / τ) at the taken token, as TRL's PPO computes them), laid out (B, R) with response token j of
    /// row b in column j, R the longest response; optionally the entropy of the same distributions. Recorded on
    /// <paramref name="tape"/> with gradients into <see cref="Parameters"/>; on an inference tape for a frozen reference or
    /// old log-probs. Padded entries are 0 and <see cref="Models.ResponseLogProbs.Mask"/> marks the real ones.
    /// Only the rows that predict a response token run the last block, ln_f and the (N, V) head.
    /// </summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded prompt + response ids with ResponseStart (≥ 1: the first response token is predicted from the prompt).</param>
    /// <param name="temperature">τ &gt; 0, dividing the logits (use the sampling temperature). Default 1.</param>
    /// <param name="entropy">Also compute the per-token entropy.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    public ResponseLogProbs ResponseLogProbs(Tape tape, TokenBatch batch, float temperature = 1f, bool entropy = false,
        bool training = false, Rng? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(tape);
        var layout = ResponseLayout.Of(batch);
        if (!(temperature > 0) || !float.IsFinite(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), $"GptLanguageModel: temperature {temperature}; use a positive number.");
        var logits = Logits(tape, batch, layout.PredictingRows, training, dropoutRng);               // (N, V)
        if (temperature != 1f)
        {
            var scaled = tape.Scale(logits, 1f / temperature);
            tape.Release(logits);   // neither the head's backward nor the scale's reads these values: N·V floats back
            logits = scaled;
        }
        int cells = batch.Batch * layout.Width;
        var logProbs = tape.ScatterRows(tape.SelectiveLogSoftmax(logits, layout.Targets), layout.Cells, cells);   // (B·R)
        var entropies = entropy ? tape.ScatterRows(tape.EntropyFromLogits(logits), layout.Cells, cells) : null;   // (B·R)
        var mask = tape.Zeros([batch.Batch, layout.Width]);                                           // (B, R)
        foreach (int cell in layout.Cells) mask.Data[cell] = 1f;
        return new ResponseLogProbs(logProbs.Reshape(batch.Batch, layout.Width), entropies?.Reshape(batch.Batch, layout.Width), mask, layout.Lengths);
    }

    /// <summary>
    /// Generation's prefill (inference only): runs the prompts, stores every layer's keys and values of prompt b in slot b
    /// of <paramref name="cache"/>, and returns the logits of each prompt's last token.
    /// </summary>
    /// <param name="tape">An inference tape (RecordsGradients off).</param>
    /// <param name="prompts">(B, T) right-padded prompt ids; B ≤ the cache's rows, T ≤ its capacity.</param>
    /// <param name="cache">An empty cache; its first B slots are filled.</param>
    /// <returns>(B, V) the next-token logits of each prompt.</returns>
    public Tensor Prefill(Tape tape, TokenBatch prompts, KvCache cache)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(cache);
        RequireInference(tape);
        if (prompts.Batch > cache.Rows || prompts.Time > cache.Capacity || cache.Layers != Config.Layers)
            throw new ArgumentException($"GptLanguageModel: {prompts.Batch} prompts of up to {prompts.Time} tokens do not fit a cache of {cache.Rows} rows x {cache.Capacity} positions of {cache.Layers} layers.", nameof(cache));
        var hidden = Transformer.Prefill(tape, prompts, prompts.LastTokenRows(), cache, Conv1DKernel);   // (B, C)
        return tape.Linear(hidden, TokenEmbedding, null);                                              // (B, V)
    }

    /// <summary>
    /// One decode step (inference only): feeds token <paramref name="tokens"/>[a] to the sequence in cache slot
    /// <paramref name="slots"/>[a] at that slot's next position, extends the cache and returns the next-token logits.
    /// </summary>
    /// <param name="tape">An inference tape (RecordsGradients off).</param>
    /// <param name="cache">The cache the prefill filled.</param>
    /// <param name="slots">(A) distinct cache slots.</param>
    /// <param name="tokens">(A) one token per slot.</param>
    /// <returns>(A, V).</returns>
    public Tensor DecodeStep(Tape tape, KvCache cache, int[] slots, int[] tokens)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(slots);
        ArgumentNullException.ThrowIfNull(tokens);
        RequireInference(tape);
        if (slots.Length != tokens.Length || slots.Length == 0)
            throw new ArgumentException($"GptLanguageModel: {slots.Length} slots and {tokens.Length} tokens; give one token per slot, at least one.", nameof(tokens));
        var seen = new bool[cache.Rows];
        foreach (int slot in slots)
        {
            if ((uint)slot >= (uint)cache.Rows || seen[slot])
                throw new ArgumentException($"GptLanguageModel: slot {slot} is outside the cache's {cache.Rows} rows or given twice; give each sequence its own slot.", nameof(slots));
            seen[slot] = true;
        }
        var hidden = Transformer.Decode(tape, tokens, slots, cache, Conv1DKernel);   // (A, C)
        return tape.Linear(hidden, TokenEmbedding, null);                            // (A, V)
    }

    static void RequireInference(Tape tape)
    {
        if (tape.RecordsGradients)
            throw new ArgumentException("GptLanguageModel: generation runs in inference mode; pass a Tape with RecordsGradients = false.", nameof(tape));
    }
}

/// <summary>
/// Per-token log-probabilities of responses, (B, R): response token j of row b in column j, R the longest response.
/// On the tape they came from (valid until its Reset); padded entries are 0.
/// </summary>
/// <param name="LogProbs">(B, R) log π(token | prefix); differentiable when the tape recorded.</param>
/// <param name="Entropy">(B, R) entropy of π(· | prefix), or null when not asked for.</param>
/// <param name="Mask">(B, R) 1 for a real response token, 0 for padding (takes no gradient).</param>
/// <param name="Lengths">(B) response tokens per row.</param>
public sealed record ResponseLogProbs(Tensor LogProbs, Tensor? Entropy, Tensor Mask, int[] Lengths)
{
    /// <summary>Row b's log-probs as an array of its response length (a copy, valid after the tape's Reset).</summary>
    public float[] Row(int b) => LogProbs.Data.Slice(b * LogProbs.Dim(1), Lengths[b]).ToArray();

    /// <summary>Row b's entropies as an array of its response length; throws when entropy was not computed.</summary>
    public float[] EntropyRow(int b) =>
        (Entropy ?? throw new InvalidOperationException("ResponseLogProbs: entropy was not computed; pass entropy: true.")).Data.Slice(b * Entropy.Dim(1), Lengths[b]).ToArray();
}

/// <summary>Where each response token of a batch is predicted from and where it goes in the (B, R) grid.</summary>
/// <param name="PredictingRows">(N) flat B·T index of the position predicting each response token.</param>
/// <param name="Targets">(N) the response tokens.</param>
/// <param name="Cells">(N) flat B·R cell of each response token.</param>
/// <param name="Lengths">(B) response tokens per row.</param>
/// <param name="Width">R, the longest response.</param>
internal sealed record ResponseLayout(int[] PredictingRows, int[] Targets, int[] Cells, int[] Lengths, int Width)
{
    public static ResponseLayout Of(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Validate();
        var starts = batch.ResponseStart ?? throw new ArgumentException("GptLanguageModel: response log-probs need TokenBatch.ResponseStart (the first response token of each row).", nameof(batch));
        int B = batch.Batch, T = batch.Time, width = 0;
        var lengths = new int[B];
        for (int b = 0; b < B; b++)
        {
            if (starts[b] < 1)
                throw new ArgumentException($"GptLanguageModel: row {b} has its response start at {starts[b]}; a response token needs at least one prompt token before it.", nameof(batch));
            lengths[b] = batch.Lengths[b] - starts[b];
            width = Math.Max(width, lengths[b]);
        }
        int n = lengths.Sum();
        var rows = new int[n];
        var targets = new int[n];
        var cells = new int[n];
        for (int b = 0, i = 0; b < B; b++)
            for (int j = 0; j < lengths[b]; j++, i++)
            {
                int t = starts[b] + j;
                rows[i] = b * T + t - 1;
                targets[i] = batch.Ids[b * T + t];
                cells[i] = b * width + j;
            }
        return new ResponseLayout(rows, targets, cells, lengths, width);
    }
}
