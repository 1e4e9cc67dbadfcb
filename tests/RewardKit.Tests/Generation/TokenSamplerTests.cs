using RewardKit.Generation;
using RewardKit.Tensors;
using RewardKit.Tests.Models;

namespace RewardKit.Tests.Generation;

public class TokenSamplerTests
{
    [Fact]
    public void Temperature_top_k_and_top_p_keep_the_tokens_hugging_faces_warpers_keep()
    {
        var warpers = GptLanguageModelTests.PolicyFixture().GetProperty("warpers");
        var rows = warpers.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        foreach (var c in warpers.GetProperty("cases").EnumerateArray())
        {
            float temperature = c.GetProperty("temperature").GetSingle(), topP = c.GetProperty("top_p").GetSingle();
            int topK = c.GetProperty("top_k").GetInt32();
            var kept = c.GetProperty("kept").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32() == 1).ToArray()).ToArray();
            for (int r = 0; r < rows.Length; r++)
            {
                var x = (float[])rows[r].Clone();
                TokenSampler.Filter(x, temperature, topK, topP);
                var actual = x.Select(float.IsFinite).ToArray();
                Assert.True(kept[r].SequenceEqual(actual), $"temperature {temperature}, top-k {topK}, top-p {topP}, row {r}: kept {string.Join(",", actual.Select((k, i) => k ? i : -1).Where(i => i >= 0))}, PyTorch {string.Join(",", kept[r].Select((k, i) => k ? i : -1).Where(i => i >= 0))}");
                for (int i = 0; i < x.Length; i++)
                    if (actual[i]) Assert.Equal(rows[r][i] * (1f / temperature), x[i]);
            }
        }
    }

    [Fact]
    public void Top_k_keeps_ties_at_the_kth_value_and_top_p_always_keeps_the_most_likely_token()
    {
        float[] x = [1f, 3f, 2f, 3f, 0f];
        TokenSampler.Filter(x, 1f, topK: 1, topP: 1f);
        Assert.Equal([false, true, false, true, false], x.Select(float.IsFinite));
        float[] y = [0f, 5f, 1f];
        TokenSampler.Filter(y, 1f, topK: 0, topP: 1e-6f);
        Assert.Equal([false, true, false], y.Select(float.IsFinite));
    }

    [Fact]
    public void The_nucleus_is_the_shortest_most_likely_prefix_of_a_descending_sort_reaching_p()
    {
        var rng = new Rng(8);
        for (int trial = 0; trial < 300; trial++)
        {
            int n = 1 + rng.NextInt(300);
            // Peaked and flat rows, with ties and removed (−∞) tokens.
            float spread = trial % 2 == 0 ? 0.05f : 4f;
            var x = Enumerable.Range(0, n).Select(_ => rng.NextInt(6) switch { 0 => float.NegativeInfinity, 1 => 0.5f, _ => spread * (rng.NextFloat() * 2 - 1) }).ToArray();
            if (x.All(float.IsNegativeInfinity)) x[0] = 0f;
            float p = new[] { 0.05f, 0.3f, 0.9f, 0.999f }[trial % 4];
            var actual = (float[])x.Clone();
            TokenSampler.Filter(actual, 1f, topK: 0, topP: p);

            float max = x.Max();
            var order = Enumerable.Range(0, n).Where(i => !float.IsNegativeInfinity(x[i])).OrderByDescending(i => x[i]).ThenBy(i => i).ToArray();
            double total = order.Sum(i => (double)MathF.Exp(x[i] - max)), before = 0;
            var expected = new bool[n];
            foreach (int i in order)
            {
                if (before >= p * total) break;
                expected[i] = true;
                before += MathF.Exp(x[i] - max);
            }
            Assert.Equal(expected, actual.Select(float.IsFinite).ToArray());
        }
    }

    [Fact]
    public void The_kth_largest_is_the_kth_of_a_descending_sort_with_ties_and_infinities()
    {
        var rng = new Rng(4);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = 1 + rng.NextInt(70);
            var x = Enumerable.Range(0, n).Select(_ => rng.NextInt(5) switch { 0 => float.NegativeInfinity, 1 => 1f, _ => rng.NextFloat() }).ToArray();
            int k = 1 + rng.NextInt(n);
            var sorted = x.OrderByDescending(v => v).ToArray();
            Assert.Equal(sorted[k - 1], TokenSampler.KthLargest((float[])x.Clone(), k));
        }
    }

    [Fact]
    public void Sampling_inverts_the_cumulative_distribution_in_id_order()
    {
        float[] logits = [0f, MathF.Log(3f), float.NegativeInfinity];   // p = 0.25, 0.75, 0
        Assert.Equal(0, TokenSampler.Sample(logits, 0.2));
        Assert.Equal(1, TokenSampler.Sample(logits, 0.3));
        Assert.Equal(1, TokenSampler.Sample(logits, 0.999999));
        var rng = new Rng(1);
        int ones = 0;
        for (int i = 0; i < 4000; i++) ones += TokenSampler.Sample(logits, rng.NextDouble());
        Assert.InRange(ones / 4000.0, 0.72, 0.78);
    }

    [Fact]
    public void Log_prob_is_the_log_softmax_at_the_temperature()
    {
        float[] logits = [1f, 2f, 0.5f];
        double z = logits.Sum(l => Math.Exp(l / 0.5));
        Assert.Equal(Math.Log(Math.Exp(2 / 0.5) / z), TokenSampler.LogProb(logits, 1, 0.5f), 5);
        Assert.Equal(1, TokenSampler.ArgMax(logits));
    }
}
