using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RewardKit.Models;
using RewardKit.Models.Bert;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Tests.Models.Bert;

/// <summary>
/// The engine's BERT encoder against ONNX Runtime (the test oracle) running the packaged ONNX files themselves: the
/// weights mapped to Hugging Face names and loaded into <see cref="BertRewardModel"/> must give the same last hidden
/// states and mean-pooled sentence embeddings within 1e-4 on varied inputs.
/// </summary>
public class BertOnnxParityTests
{
    static readonly string[] Prompts =
    [
        "How do I bake sourdough bread at home?",
        "\n\nHuman: What's the capital of France?\n\nAssistant:",
        "Résumé naïve café — «quotes», 東京 and emoji 😀!",
        "a",
    ];

    static readonly string[] Responses =
    [
        "Mix flour, water and starter; let it rise overnight, shape it, and bake at 250 °C for 40 minutes.",
        " Paris.",
        "I can't help with that.",
        string.Join(" ", Enumerable.Repeat("The quick brown fox jumps over the lazy dog.", 25)),
    ];

    [PackagedBackboneFact]
    public void MiniLM_hidden_states_and_mean_pooled_embeddings_match_onnx_runtime() => Check(PackagedBackbones.MiniLM);

    [PackagedBackboneFact]
    public void ArcticXs_hidden_states_and_mean_pooled_embeddings_match_onnx_runtime() => Check(PackagedBackbones.ArcticXs);

    static void Check(PackagedBackbone backbone)
    {
        var (onnx, bytes) = PackagedModels.Get(backbone);
        var (config, tensors) = OnnxBertImport.Read(onnx);
        Assert.Equal((6, 384, 12, 1536, 30522), (config.Layers, config.HiddenSize, config.Heads, config.IntermediateSize, config.VocabSize));
        var tokenizer = new WordPieceTokenizer(PackagedBackbones.ReadVocabulary(backbone));
        var model = new BertRewardModel(config with { SepTokenId = tokenizer.SepId }, BertPooling.Mean);
        model.Initialize(new Rng(1));
        foreach (var (name, (shape, values)) in tensors) values.CopyTo(model.Parameters[BertRewardModel.BackbonePrefix + name].Data);

        var encoder = new CrossEncoderSequenceEncoder(tokenizer, new SequenceOptions { MaxLength = 160 });
        var sequences = new List<int[]>();
        for (int i = 0; i < Prompts.Length; i++) sequences.Add(encoder.Encode(Prompts[i], Responses[i])!.Ids);    // pairs, token types 0 and 1
        sequences.Add([tokenizer.ClsId, .. tokenizer.Encode("Just one sentence."), tokenizer.SepId]);             // a single segment
        var random = new Random(3);
        sequences.Add([tokenizer.ClsId, .. Enumerable.Range(0, 70).Select(_ => random.Next(1000, config.VocabSize)), tokenizer.SepId]);
        var batch = TokenBatch.FromSequences(sequences, tokenizer.PadId);
        var types = model.TokenTypes(batch);
        Assert.Contains(1, types);

        using var pool = new RewardKit.Tensors.Kernels.WorkerPool(2);
        var tape = new Tape(pool) { RecordsGradients = false };
        var (hidden, _) = model.Encode(tape, batch);
        var pooled = BertRewardModel.MeanPool(tape, hidden, batch);
        var (expectedHidden, expectedPooled) = RunOnnx(bytes, batch, types);

        int B = batch.Batch, T = batch.Time, C = config.HiddenSize;
        double worst = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < batch.Lengths[b]; t++)
                for (int c = 0; c < C; c++)
                {
                    int i = (b * T + t) * C + c;
                    worst = Math.Max(worst, Math.Abs(hidden.Data[i] - expectedHidden[i]));
                }
        Assert.True(worst < 1e-4, $"{backbone.Name}: largest |hidden − ONNX Runtime| over real tokens is {worst:E2} (≥ 1e-4)");
        double worstPooled = 0;
        for (int i = 0; i < B * C; i++) worstPooled = Math.Max(worstPooled, Math.Abs(pooled.Data[i] - expectedPooled[i]));
        Assert.True(worstPooled < 1e-4, $"{backbone.Name}: largest |mean-pooled − ONNX Runtime| is {worstPooled:E2} (≥ 1e-4)");
    }

    /// <summary>ONNX Runtime's last_hidden_state (B·T·C) and its mean over each row's real tokens (B·C), in double.</summary>
    static (float[] Hidden, double[] Pooled) RunOnnx(byte[] model, TokenBatch batch, int[] types)
    {
        int B = batch.Batch, T = batch.Time;
        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        using var session = new InferenceSession(model, options);
        var mask = batch.AttentionMask();
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(batch.Ids.Select(i => (long)i).ToArray(), [B, T])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask.Select(m => (long)m).ToArray(), [B, T])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types.Select(t => (long)t).ToArray(), [B, T])),
        };
        using var results = session.Run(inputs);
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
        int C = hidden.Length / (B * T);
        var pooled = new double[B * C];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < batch.Lengths[b]; t++)
                for (int c = 0; c < C; c++) pooled[b * C + c] += hidden[(b * T + t) * C + c] / (double)batch.Lengths[b];
        return (hidden, pooled);
    }
}
