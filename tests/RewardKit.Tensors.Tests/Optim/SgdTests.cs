using RewardKit.Tensors.Optim;

namespace RewardKit.Tensors.Tests.Optim;

public class SgdTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Momentum_steps_match_the_hand_computed_torch_recurrence(bool nesterov)
    {
        var builder = new ParameterSet.Builder();
        var w = builder.Add("w", [1]);
        var set = builder.Build();
        w.Data[0] = 1f;
        var opt = new Sgd(set, learningRate: 0.1, momentum: 0.9, nesterov: nesterov);
        // g = 2w (loss w²). Step 1: buf = 2; step 2: buf = 0.9·2 + g2.
        w.Grad[0] = 2 * w.Data[0]; opt.Step();
        float afterOne = nesterov ? 1f - 0.1f * (2f + 0.9f * 2f) : 1f - 0.2f;
        Assert.Equal(afterOne, w.Data[0], 6);
        float g2 = 2 * w.Data[0];
        w.Grad[0] = g2; opt.Step();
        float buf = 0.9f * 2f + g2;
        Assert.Equal(afterOne - 0.1f * (nesterov ? g2 + 0.9f * buf : buf), w.Data[0], 6);
    }
}
