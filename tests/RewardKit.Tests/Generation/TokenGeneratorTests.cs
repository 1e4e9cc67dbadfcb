using RewardKit.Generation;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Tests.Models;

namespace RewardKit.Tests.Generation;

public class TokenGeneratorTests
{
    static readonly GptConfig Config = new GptConfig { Layers = 2, EmbeddingSize = 32, Heads = 4, Positions = 40, VocabSize = 50, EosTokenId = 49 }.WithoutDropout();

    /// <summary>A random policy whose logits are spread enough for sampling to matter (wte scaled up).</summary>
    static GptLanguageModel Model(ulong seed = 3)
    {
        var model = GptLanguageModel.Create(Config with { InitializerRange = 0.2f }, seed);
        return model;
    }

    static readonly int[][] Prompts = [[5, 17, 42], [7], [30, 12, 2, 3, 9, 21, 8], [1, 2], [11, 11, 11, 4]];

    [Fact]
    public void Greedy_tokens_and_log_probs_with_the_cache_match_pytorch_without_one()
    {
        var json = GptLanguageModelTests.PolicyFixture();
        var model = GptLanguageModelTests.PolicyFixtureModel();
        var prompts = GptLanguageModelTests.IntRows(json.GetProperty("prompts"));
        var result = new TokenGenerator(model).Generate(prompts, new SamplingOptions { Greedy = true, MaxNewTokens = json.GetProperty("max_new_tokens").GetInt32() });
        int eos = json.GetProperty("eos_token_id").GetInt32();
        Assert.Equal(eos, model.Config.EosTokenId);
        var expected = json.GetProperty("greedy").EnumerateArray().ToArray();
        for (int b = 0; b < prompts.Length; b++)
        {
            var tokens = expected[b].GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var logProbs = expected[b].GetProperty("logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(tokens, result.Tokens[b]);
            Assert.Equal(tokens[^1] == eos ? FinishReason.Eos : FinishReason.Length, result.Finish[b]);
            for (int j = 0; j < tokens.Length; j++)
                Assert.True(Math.Abs(result.LogProbs[b][j] - logProbs[j]) <= 1e-4, $"row {b} token {j}: {result.LogProbs[b][j]} vs PyTorch {logProbs[j]}");
        }
        Assert.Contains(FinishReason.Eos, result.Finish);
        Assert.Contains(FinishReason.Length, result.Finish);
    }

    [Theory]
    [InlineData(true, 1f, 0, 1f)]
    [InlineData(false, 0.8f, 10, 0.9f)]
    [InlineData(false, 1.3f, 0, 1f)]
    public void Log_probs_and_greedy_choices_with_the_cache_equal_a_full_forward_without_it(bool greedy, float temperature, int topK, float topP)
    {
        var model = Model();
        var options = new SamplingOptions { Greedy = greedy, Temperature = temperature, TopK = topK, TopP = topP, MaxNewTokens = 12, Seed = 5 };
        var result = new TokenGenerator(model).Generate(Prompts, options);
        var batch = result.ToTokenBatch();
        var scored = model.ResponseLogProbs(new Tape { RecordsGradients = false }, batch, greedy ? 1f : temperature);
        for (int b = 0; b < Prompts.Length; b++)
        {
            Assert.Equal(result.Tokens[b].Length, scored.Lengths[b]);
            var full = scored.Row(b);
            for (int j = 0; j < full.Length; j++)
                Assert.True(Math.Abs(full[j] - result.LogProbs[b][j]) <= 2e-5, $"row {b} token {j}: cached {result.LogProbs[b][j]} vs full forward {full[j]}");
        }
        if (!greedy) return;
        // Every greedy token is the argmax of the full forward's logits at the position before it.
        var rows = new List<int>();
        for (int b = 0; b < batch.Batch; b++)
            for (int t = batch.ResponseStart![b] - 1; t < batch.Lengths[b] - 1; t++) rows.Add(b * batch.Time + t);
        var logits = model.Logits(new Tape { RecordsGradients = false }, batch, [.. rows]);
        int row = 0;
        for (int b = 0; b < batch.Batch; b++)
            foreach (int token in result.Tokens[b])
                Assert.Equal(token, TokenSampler.ArgMax(logits.Data.Slice(row++ * Config.VocabSize, Config.VocabSize)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_tokens_for_any_thread_count_and_batch_and_another_seed_other_tokens()
    {
        var model = Model();
        var options = new SamplingOptions { Temperature = 1.2f, TopP = 0.95f, MaxNewTokens = 10, Seed = 42 };
        var one = new TokenGenerator(model).Generate(Prompts, options);
        using var pool = new WorkerPool(2);
        var two = new TokenGenerator(model, pool).Generate(Prompts, options);
        Assert.Equal(one.Tokens, two.Tokens);
        Assert.Equal(one.LogProbs, two.LogProbs);
        // Row b alone, with the seed it had in the batch.
        for (int b = 0; b < Prompts.Length; b++)
        {
            var alone = new TokenGenerator(model).Generate([Prompts[b]], options, [SamplingOptions.RowSeed(42, b, 0)]);
            Assert.Equal(one.Tokens[b], alone.Tokens[0]);
        }
        var other = new TokenGenerator(model).Generate(Prompts, options with { Seed = 43 });
        Assert.NotEqual(one.Tokens, other.Tokens);
    }

    [Fact]
    public void A_generator_reused_for_calls_of_other_sizes_gives_what_a_fresh_one_gives()
    {
        var model = Model();
        var options = new SamplingOptions { Seed = 4, MaxNewTokens = 7, Temperature = 0.9f };
        var reused = new TokenGenerator(model);
        var small = reused.Generate(Prompts[..2], options with { MaxNewTokens = 3 });
        var large = reused.Generate(Prompts, options);                  // more rows and positions: a new cache
        var again = reused.Generate(Prompts[1..3], options);            // fewer: the kept cache
        Assert.Equal(new TokenGenerator(model).Generate(Prompts[..2], options with { MaxNewTokens = 3 }).Tokens, small.Tokens);
        Assert.Equal(new TokenGenerator(model).Generate(Prompts, options).Tokens, large.Tokens);
        Assert.Equal(new TokenGenerator(model).Generate(Prompts[1..3], options).Tokens, again.Tokens);
    }

    [Fact]
    public void Rows_stop_at_eos_or_the_token_budget_each_on_their_own()
    {
        var model = Model();
        var greedy = new SamplingOptions { Greedy = true, MaxNewTokens = 8, StopAtEos = false };
        var free = new TokenGenerator(model).Generate(Prompts, greedy);
        // Make EOS a token that row 0 produces at its third step and that some other row never produces.
        int eos = free.Tokens[0][2];
        Assert.Contains(free.Tokens, t => !t.Contains(eos));
        var stopped = new TokenGenerator(model).Generate(Prompts, greedy with { StopAtEos = true, EosTokenId = eos });
        for (int b = 0; b < Prompts.Length; b++)
        {
            int first = Array.IndexOf(free.Tokens[b], eos);
            int expectedLength = first < 0 ? 8 : first + 1;
            Assert.Equal(free.Tokens[b][..expectedLength], stopped.Tokens[b]);
            Assert.Equal(first < 0 ? FinishReason.Length : FinishReason.Eos, stopped.Finish[b]);
        }
        Assert.True(stopped.Tokens[0].Length <= 3);
    }

    [Fact]
    public void Left_and_right_padded_prompts_give_the_prompts_and_the_generations_of_the_unpadded_ones()
    {
        var model = Model();
        int time = Prompts.Max(p => p.Length) + 2;
        var left = new int[Prompts.Length * time];
        var right = new int[Prompts.Length * time];
        var leftMask = new float[left.Length];
        var rightMask = new float[right.Length];
        Array.Fill(left, 48);
        Array.Fill(right, 48);
        for (int b = 0; b < Prompts.Length; b++)
            for (int t = 0; t < Prompts[b].Length; t++)
            {
                int l = b * time + time - Prompts[b].Length + t, r = b * time + t;
                (left[l], leftMask[l], right[r], rightMask[r]) = (Prompts[b][t], 1f, Prompts[b][t], 1f);
            }
        var fromLeft = TokenGenerator.PromptsFromPadded(left, Prompts.Length, time, leftMask);
        var fromRight = TokenGenerator.PromptsFromPadded(right, Prompts.Length, time, rightMask);
        Assert.Equal(Prompts, fromLeft);
        Assert.Equal(Prompts, fromRight);
        var options = new SamplingOptions { Seed = 9, MaxNewTokens = 6 };
        var expected = new TokenGenerator(model).Generate(Prompts, options);
        Assert.Equal(expected.Tokens, new TokenGenerator(model).Generate(fromLeft, options).Tokens);
        Assert.Equal(expected.Tokens, new TokenGenerator(model).Generate(fromRight, options).Tokens);
    }

    [Fact]
    public void A_prompt_near_n_positions_stops_at_the_context_end_and_a_prompt_filling_it_is_refused()
    {
        var model = Model();
        var longPrompt = Enumerable.Range(0, Config.Positions - 2).Select(i => i % 40).ToArray();
        var result = new TokenGenerator(model).Generate([longPrompt, [3]], new SamplingOptions { Greedy = true, MaxNewTokens = 10, StopAtEos = false });
        Assert.Equal(2, result.Tokens[0].Length);   // positions 38 and 39
        Assert.Equal(FinishReason.Length, result.Finish[0]);
        Assert.Equal(10, result.Tokens[1].Length);
        var full = Enumerable.Range(0, Config.Positions).ToArray();
        var e = Assert.Throws<ArgumentException>(() => new TokenGenerator(model).Generate([[1], full], new SamplingOptions()));
        Assert.Contains("prompt 1", e.Message);
        Assert.Contains("n_positions", e.Message);
    }

    [Fact]
    public void Bad_sampling_options_name_the_flag()
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenGenerator(Model()).Generate(Prompts, new SamplingOptions { Temperature = 0 }));
        Assert.Contains("--temperature", e.Message);
        Assert.Contains("--top-p", Assert.Throws<ArgumentException>(() => new SamplingOptions { TopP = 1.5f }.Validate()).Message);
        Assert.Contains("--max-new-tokens", Assert.Throws<ArgumentException>(() => new SamplingOptions { MaxNewTokens = 0 }.Validate()).Message);
    }
}
