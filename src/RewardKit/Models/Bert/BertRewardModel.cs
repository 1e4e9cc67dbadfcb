// Shapes: B batch, T time (padded length), C hidden_size, NH heads, V vocabulary.
using System.Runtime.Serialization;
using RewardKit.Tensors;

namespace RewardKit.Models.Bert;

/// <summary>Where a BERT reward model reads the sequence's summary vector from the final hidden states.</summary>
public enum BertPooling
{
    /// <summary>
    /// Hugging Face <c>BertForSequenceClassification</c>: the pooler tanh(dense(h[CLS])), then the classifier. The folder
    /// opens in Hugging Face as it is and computes the same reward.
    /// </summary>
    [EnumMember(Value = "cls")] Cls,

    /// <summary>The mean of the real tokens' hidden states (sentence-transformers' pooling of all-MiniLM), then the classifier.</summary>
    [EnumMember(Value = "mean")] Mean,
}

/// <summary>
/// A BERT cross-encoder reward model: [CLS] prompt [SEP] response [SEP] in one sequence, token types 0 then 1, read by
/// <c>BertForSequenceClassification</c> with one label:
/// <code>
/// h = LayerNorm(word[ids] + position[0..T) + token_type[types])             (B, T, C)
/// for each layer: h = BertLayer(h)                                          (post-LayerNorm, exact GELU, bidirectional attention)
/// v = tanh(pooler(h[:, 0]))  or  mean over real tokens of h                 (B, C)
/// r = classifier(v)                                                         (B)       classifier: Linear(C, 1)
/// </code>
/// Parameters live in one <see cref="ParameterSet"/> under Hugging Face's names (<c>bert.encoder.layer.0.attention.self.query.weight</c>,
/// Linear layout [out, in]; <c>classifier.weight</c> (1, C)), so a checkpoint is a copy. Biases and LayerNorm weights take
/// no weight decay. Forward is safe to call from several threads at once, each with its own <see cref="Tape"/>.
/// </summary>
public sealed class BertRewardModel
{
    /// <summary>The name prefix of the encoder's parameters (as in <c>BertForSequenceClassification</c>).</summary>
    public const string BackbonePrefix = "bert.";

    readonly int[] _positionIds;

    /// <summary>Builds the model with zero parameters; call <see cref="Initialize"/> or load weights.</summary>
    public BertRewardModel(BertConfig config, BertPooling pooling = BertPooling.Cls)
    {
        Config = (config ?? throw new ArgumentNullException(nameof(config))).Validate();
        Pooling = pooling;
        int c = config.HiddenSize;
        var p = new ParameterSet.Builder();
        WordEmbeddings = p.Add(BackbonePrefix + "embeddings.word_embeddings.weight", [config.VocabSize, c]);
        PositionEmbeddings = p.Add(BackbonePrefix + "embeddings.position_embeddings.weight", [config.MaxPositions, c]);
        TokenTypeEmbeddings = p.Add(BackbonePrefix + "embeddings.token_type_embeddings.weight", [config.TypeVocabSize, c]);
        EmbeddingNormWeight = p.Add(BackbonePrefix + "embeddings.LayerNorm.weight", [c], weightDecay: false);
        EmbeddingNormBias = p.Add(BackbonePrefix + "embeddings.LayerNorm.bias", [c], weightDecay: false);
        var layers = new BertLayer[config.Layers];
        for (int i = 0; i < layers.Length; i++) layers[i] = new BertLayer(p, $"{BackbonePrefix}encoder.layer.{i}.", config);
        Layers = layers;
        PoolerWeight = p.Add(BackbonePrefix + "pooler.dense.weight", [c, c]);
        PoolerBias = p.Add(BackbonePrefix + "pooler.dense.bias", [c], weightDecay: false);
        ClassifierWeight = p.Add("classifier.weight", [1, c]);
        ClassifierBias = p.Add("classifier.bias", [1], weightDecay: false);
        Parameters = p.Build();
        _positionIds = Enumerable.Range(0, config.MaxPositions).ToArray();
    }

    /// <summary>The encoder's shape.</summary>
    public BertConfig Config { get; }

    /// <summary>Where the summary vector is read (see <see cref="BertPooling"/>).</summary>
    public BertPooling Pooling { get; }

    /// <summary>All parameters, in one buffer, under Hugging Face names.</summary>
    public ParameterSet Parameters { get; }

    /// <summary><c>bert.embeddings.word_embeddings.weight</c> (V, C).</summary>
    public Tensor WordEmbeddings { get; }
    /// <summary><c>bert.embeddings.position_embeddings.weight</c> (max_position_embeddings, C).</summary>
    public Tensor PositionEmbeddings { get; }
    /// <summary><c>bert.embeddings.token_type_embeddings.weight</c> (type_vocab_size, C).</summary>
    public Tensor TokenTypeEmbeddings { get; }
    /// <summary><c>bert.embeddings.LayerNorm.weight</c> (C).</summary>
    public Tensor EmbeddingNormWeight { get; }
    /// <summary><c>bert.embeddings.LayerNorm.bias</c> (C).</summary>
    public Tensor EmbeddingNormBias { get; }
    /// <summary>The layers <c>bert.encoder.layer.{i}</c>.</summary>
    public IReadOnlyList<BertLayer> Layers { get; }
    /// <summary><c>bert.pooler.dense.weight</c> (C, C).</summary>
    public Tensor PoolerWeight { get; }
    /// <summary><c>bert.pooler.dense.bias</c> (C).</summary>
    public Tensor PoolerBias { get; }
    /// <summary><c>classifier.weight</c> (1, C).</summary>
    public Tensor ClassifierWeight { get; }
    /// <summary><c>classifier.bias</c> (1).</summary>
    public Tensor ClassifierBias { get; }

    /// <summary>The number of scalar parameters.</summary>
    public int ParameterCount => Parameters.Count;

    /// <summary>
    /// Hugging Face's BERT initialisation from <paramref name="rng"/>: weights and embeddings N(0, initializer_range²),
    /// biases 0, LayerNorm weights 1. Parameters are drawn in declaration order.
    /// </summary>
    public void Initialize(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        foreach (var e in Parameters.Entries) InitializeParameter(e.Name, rng);
    }

    /// <summary>Initialises one parameter by its name (for tensors a checkpoint does not have, e.g. the classifier).</summary>
    public void InitializeParameter(string name, Rng rng)
    {
        var data = Parameters[name].Data;
        if (name.EndsWith(".bias", StringComparison.Ordinal)) data.Clear();
        else if (name.Contains("LayerNorm", StringComparison.Ordinal)) data.Fill(1f);
        else rng.FillNormal(data, 0, Config.InitializerRange);
    }

    /// <summary>
    /// The final hidden states of the encoder (Hugging Face's <c>last_hidden_state</c>).
    /// Token types are 0 up to and including each row's first [SEP] (<see cref="BertConfig.SepTokenId"/>) and 1 after it.
    /// </summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded ids and real lengths.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <returns>(B, T, C) hidden states and the (B, T) key mask (1 real, 0 pad).</returns>
    public (Tensor Hidden, Tensor KeyMask) Encode(Tape tape, TokenBatch batch, bool training = false, Rng? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(batch);
        batch.Validate();
        int B = batch.Batch, T = batch.Time;
        if (T > Config.MaxPositions)
            throw new ArgumentException($"BertRewardModel: sequences of {T} tokens exceed max_position_embeddings = {Config.MaxPositions}; truncate them to at most {Config.MaxPositions} tokens.", nameof(batch));
        bool dropoutOn = training && Config.HiddenDropout > 0;
        if (training && Config.AttentionDropout > 0)
            throw new NotSupportedException($"BertRewardModel: attention dropout (attention_probs_dropout_prob = {Config.AttentionDropout}) is not implemented by the fused attention; set it to 0 to train.");
        if (dropoutOn && dropoutRng is null)
            throw new ArgumentException("BertRewardModel: training with dropout needs a dropout Rng.", nameof(dropoutRng));
        var dropout = new DropoutState(training, dropoutRng);
        var keyMask = tape.Empty([B, T]);
        batch.AttentionMask(keyMask.Data);
        var words = tape.Embedding(WordEmbeddings, batch.Ids, [B, T]);                     // (B, T, C)
        var positions = tape.Embedding(PositionEmbeddings, _positionIds[..T], [T]);        // (T, C)
        var types = tape.Embedding(TokenTypeEmbeddings, TokenTypes(batch), [B, T]);        // (B, T, C)
        var sum = tape.Add(tape.Add(words, types), positions);
        var h = dropout.Apply(tape, tape.LayerNorm(sum, EmbeddingNormWeight, EmbeddingNormBias, Config.LayerNormEpsilon), Config.HiddenDropout);
        return (RunLayers(tape, h, keyMask, dropout), keyMask);                           // (B, T, C)
    }

    /// <summary>
    /// The layers over <paramref name="h"/> (B, T, C). When recording, each layer's output stays for the backward. In
    /// inference each layer's output is copied into one of two buffers and its temporaries go back to the arena (as
    /// GptTransformer does), so memory is one layer's worth, not <see cref="BertConfig.Layers"/>'.
    /// </summary>
    Tensor RunLayers(Tape tape, Tensor h, Tensor keyMask, DropoutState dropout)
    {
        if (tape.RecordsGradients)
        {
            foreach (var layer in Layers) h = layer.Forward(tape, h, keyMask, dropout);
            return h;
        }
        if (Layers.Count == 0) return h;
        var next = tape.Empty(h.Shape);
        var spare = tape.Empty(h.Shape);
        foreach (var layer in Layers)
        {
            var mark = tape.Arena.Mark();
            layer.Forward(tape, h, keyMask, dropout).Data.CopyTo(next.Data);
            tape.Arena.Release(mark);
            h = next;
            (next, spare) = (spare, next);
        }
        return h;
    }

    /// <summary>The (B·T) token types: 0 up to and including each row's first [SEP], 1 after it (0 on padding).</summary>
    public int[] TokenTypes(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var types = new int[batch.Batch * batch.Time];
        if (Config.TypeVocabSize < 2) return types;
        for (int b = 0; b < batch.Batch; b++)
        {
            int row = b * batch.Time, length = batch.Lengths[b], t = 0;
            while (t < length && batch.Ids[row + t] != Config.SepTokenId) t++;
            for (t++; t < length; t++) types[row + t] = 1;
        }
        return types;
    }

    /// <summary>
    /// The mean of each row's real tokens' hidden states (sentence-transformers' mean pooling).
    /// </summary>
    /// <param name="tape">The tape.</param>
    /// <param name="hidden">(B, T, C) from <see cref="Encode"/>.</param>
    /// <param name="batch">The batch (for the lengths).</param>
    /// <returns>(B, C).</returns>
    public static Tensor MeanPool(Tape tape, Tensor hidden, TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int B = batch.Batch, T = batch.Time;
        var weights = tape.Zeros([B, 1, T]);                                              // (B, 1, T) 1/length on real tokens
        for (int b = 0; b < B; b++) weights.Data.Slice(b * T, batch.Lengths[b]).Fill(1f / batch.Lengths[b]);
        return tape.BatchedMatMul(weights, hidden).Reshape(B, hidden.Dim(2));            // (B, C)
    }

    /// <summary>The summary vector of each row: tanh(pooler(h[CLS])) or the mean of the real tokens.</summary>
    /// <returns>(B, C).</returns>
    public Tensor Pool(Tape tape, Tensor hidden, TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (Pooling == BertPooling.Mean) return MeanPool(tape, hidden, batch);
        int B = batch.Batch, T = batch.Time, C = Config.HiddenSize;
        var first = new int[B];
        for (int b = 0; b < B; b++) first[b] = b * T;
        var cls = tape.GatherRows(hidden.Reshape(B * T, C), first);                       // (B, C)
        return tape.Tanh(tape.Linear(cls, PoolerWeight, PoolerBias));                      // (B, C)
    }

    /// <summary>The reward of every row of <paramref name="batch"/> ([CLS] prompt [SEP] response [SEP] sequences).</summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) right-padded ids and real lengths.</param>
    /// <param name="training">Turns dropout on.</param>
    /// <param name="dropoutRng">Where dropout masks come from; required when training with dropout.</param>
    /// <returns>(B) rewards.</returns>
    public Tensor Forward(Tape tape, TokenBatch batch, bool training = false, Rng? dropoutRng = null)
    {
        var (hidden, _) = Encode(tape, batch, training, dropoutRng);                        // (B, T, C)
        var pooled = Pool(tape, hidden, batch);                                              // (B, C)
        var dropped = training && Config.HiddenDropout > 0 ? tape.Dropout(pooled, Config.HiddenDropout, dropoutRng!) : pooled;
        return tape.Linear(dropped, ClassifierWeight, ClassifierBias).Reshape(batch.Batch);  // (B)
    }
}
