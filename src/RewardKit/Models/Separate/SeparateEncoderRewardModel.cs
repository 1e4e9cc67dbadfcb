// Shapes: B responses, P prompts, T time (padded length), C channels (n_embd), H hidden (= C).
using RewardKit.Tensors;

namespace RewardKit.Models.Separate;

/// <summary>
/// A reward model that encodes the prompt and the response apart with one GPT-2 backbone (shared weights), pools each at
/// its last token and fuses the two encodings (<see cref="SeparateFusion"/>):
/// <code>
/// p = ln_f(gpt2(prompt))[last]        (P, C)
/// r = ln_f(gpt2(response))[last]      (B, C)
/// reward = fusion(p[prompt of b], r)  (B)
/// </code>
/// Unlike the concatenation model, a prompt's encoding does not depend on the response, so scoring n responses to one
/// prompt encodes the prompt once. Parameters: the backbone under Hugging Face's <c>transformer.*</c> names and the head
/// <c>fusion.dense.weight</c> (H, 4C), <c>fusion.dense.bias</c> (H), <c>fusion.out.weight</c> (1, H), <c>fusion.out.bias</c> (1).
/// </summary>
public sealed class SeparateEncoderRewardModel
{
    /// <summary>The name prefix of the fusion head's parameters.</summary>
    public const string FusionPrefix = "fusion.";

    /// <summary>Builds the model with zero parameters; call <see cref="Initialize"/> or load weights.</summary>
    public SeparateEncoderRewardModel(GptConfig config)
    {
        Config = (config ?? throw new ArgumentNullException(nameof(config))).Validate();
        int c = config.EmbeddingSize;
        var p = new ParameterSet.Builder();
        Transformer = new GptTransformer(p, config, nameof(SeparateEncoderRewardModel));
        DenseWeight = p.Add(FusionPrefix + "dense.weight", [c, 4 * c]);
        DenseBias = p.Add(FusionPrefix + "dense.bias", [c], weightDecay: false);
        OutWeight = p.Add(FusionPrefix + "out.weight", [1, c]);
        OutBias = p.Add(FusionPrefix + "out.bias", [1], weightDecay: false);
        Parameters = p.Build();
    }

    /// <summary>A model initialised from <paramref name="seed"/> (GPT-2's initialisation; the head's weights N(0, 0.02²), biases 0).</summary>
    public static SeparateEncoderRewardModel Create(GptConfig config, ulong seed)
    {
        var model = new SeparateEncoderRewardModel(config);
        model.Initialize(new Rng(seed));
        return model;
    }

    /// <summary>The backbone's shape.</summary>
    public GptConfig Config { get; }

    /// <summary>The shared backbone <c>transformer.*</c>.</summary>
    public GptTransformer Transformer { get; }

    /// <summary><c>fusion.dense.weight</c> (H, 4C).</summary>
    public Tensor DenseWeight { get; }

    /// <summary><c>fusion.dense.bias</c> (H).</summary>
    public Tensor DenseBias { get; }

    /// <summary><c>fusion.out.weight</c> (1, H).</summary>
    public Tensor OutWeight { get; }

    /// <summary><c>fusion.out.bias</c> (1).</summary>
    public Tensor OutBias { get; }

    /// <summary>All parameters in one buffer.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The number of scalar parameters.</summary>
    public int ParameterCount => Parameters.Count;

    /// <summary>How the blocks apply their Conv1D layers (null: the engine's float op).</summary>
    public IConv1DKernel? Conv1DKernel { get; set; }

    /// <summary>Initialises every parameter by its name, in declaration order (see <see cref="GptRewardModel.Initialize"/>).</summary>
    public void Initialize(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        foreach (var e in Parameters.Entries) GptTransformer.InitializeByName(Config, e.Name, e.Tensor.Data, rng);
    }

    /// <summary>Each row's encoding: ln_f of the final hidden state at its last real token.</summary>
    /// <param name="tape">Records the step (or just computes).</param>
    /// <param name="batch">(N, T) right-padded prompts or responses.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <returns>(N, C).</returns>
    public Tensor Encode(Tape tape, TokenBatch batch, bool training = false, Rng? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Transformer.FinalHiddenRows(tape, batch, batch.LastTokenRows(), lastBlockOnRowsOnly: true, training, dropoutRng, Conv1DKernel);
    }

    /// <summary>The rewards of responses given their prompts' encodings (see <see cref="SeparateFusion"/>).</summary>
    /// <param name="tape">Records the step.</param>
    /// <param name="prompts">(B, C) each response's prompt encoding.</param>
    /// <param name="responses">(B, C) the response encodings.</param>
    /// <returns>(B).</returns>
    public Tensor Fuse(Tape tape, Tensor prompts, Tensor responses) =>
        SeparateFusion.Forward(tape, prompts, responses, DenseWeight, DenseBias, OutWeight, OutBias);

    /// <summary>The reward of each response: prompts and responses encoded apart, response b fused with prompt <paramref name="promptOf"/>[b].</summary>
    /// <param name="tape">Records the step.</param>
    /// <param name="prompts">(P, T) the distinct prompts.</param>
    /// <param name="responses">(B, T') the responses.</param>
    /// <param name="promptOf">(B) the prompt row of each response.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from.</param>
    /// <returns>(B).</returns>
    public Tensor Forward(Tape tape, TokenBatch prompts, TokenBatch responses, int[] promptOf, bool training = false, Rng? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(promptOf);
        if (promptOf.Length != responses.Batch)
            throw new ArgumentException($"SeparateEncoderRewardModel: {promptOf.Length} prompt indices for {responses.Batch} responses.", nameof(promptOf));
        var p = Encode(tape, prompts, training, dropoutRng);                                   // (P, C)
        var r = Encode(tape, responses, training, dropoutRng);                                 // (B, C)
        return Fuse(tape, tape.GatherRows(p, promptOf), r);                                    // (B)
    }

    /// <summary>
    /// The prompt and response halves of an encoded pair (<c>[prompt ; response]</c> with the response from
    /// <paramref name="responseStart"/>); an empty half becomes <c>[<paramref name="fillerId"/>]</c> (end-of-text), so
    /// every half has a token to pool.
    /// </summary>
    public static (int[] Prompt, int[] Response) Split(int[] ids, int responseStart, int fillerId)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfNegative(responseStart);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(responseStart, ids.Length);
        return (responseStart == 0 ? [fillerId] : ids[..responseStart], responseStart == ids.Length ? [fillerId] : ids[responseStart..]);
    }
}
