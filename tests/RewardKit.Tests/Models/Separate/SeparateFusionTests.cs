using System.Text.Json;
using RewardKit.Models.Separate;
using RewardKit.Tensors;

namespace RewardKit.Tests.Models.Separate;

public sealed class SeparateFusionTests
{
    static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures", "separate_fusion.json");

    static Tensor Read(JsonElement e) =>
        Tensor.FromArray([.. e.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble())], [.. e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32())]);

    [Fact]
    public void Rewards_and_every_gradient_of_the_fusion_head_match_the_pytorch_reference()
    {
        var json = JsonDocument.Parse(File.ReadAllText(Fixture)).RootElement;
        var inputs = json.GetProperty("inputs");
        string[] names = ["p", "r", "w1", "b1", "w2", "b2"];
        var x = names.ToDictionary(n => n, n => Read(inputs.GetProperty(n)).RequireGrad());
        var tape = new Tape();

        var reward = SeparateFusion.Forward(tape, x["p"], x["r"], x["w1"], x["b1"], x["w2"], x["b2"]);
        tape.Backward(tape.Sum(tape.Mul(reward, Read(inputs.GetProperty("upstream")))));

        var expected = Read(json.GetProperty("reward")).ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], reward[i], 1e-5);
        foreach (var n in names)
        {
            var want = Read(json.GetProperty("grads").GetProperty(n)).ToArray();
            var got = x[n].Grad.ToArray();
            for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5, $"d/d{n}[{i}]: {got[i]} vs PyTorch {want[i]}");
        }
    }

    [Fact]
    public void Swapping_prompt_and_response_changes_the_reward_since_the_head_sees_which_is_which()
    {
        var rng = new Rng(3);
        Tensor T(params int[] shape) => Tensor.Normal(rng, 0, 1, shape);
        var (p, r, w1, b1, w2, b2) = (T(2, 4), T(2, 4), T(4, 16), T(4), T(1, 4), T(1));
        var tape = new Tape { RecordsGradients = false };

        var forward = SeparateFusion.Forward(tape, p, r, w1, b1, w2, b2).ToArray();
        var swapped = SeparateFusion.Forward(tape, r, p, w1, b1, w2, b2).ToArray();

        Assert.NotEqual(forward, swapped);
    }

    [Fact]
    public void Mismatched_prompt_and_response_shapes_are_refused_naming_both()
    {
        var e = Assert.Throws<ArgumentException>(() => SeparateFusion.Forward(new Tape(), Tensor.Zeros(2, 4), Tensor.Zeros(3, 4),
            Tensor.Zeros(4, 16), Tensor.Zeros(4), Tensor.Zeros(1, 4), Tensor.Zeros(1)));

        Assert.Contains("(2, 4)", e.Message);
        Assert.Contains("(3, 4)", e.Message);
    }
}
