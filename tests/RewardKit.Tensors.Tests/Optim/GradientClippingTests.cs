using RewardKit.Tensors.Optim;

namespace RewardKit.Tensors.Tests.Optim;

public class GradientClippingTests
{
    [Fact]
    public void Clipping_returns_the_norm_before_clipping_and_scales_to_max_norm()
    {
        var builder = new ParameterSet.Builder();
        var a = builder.Add("a", [2]);
        var c = builder.Add("c", [1]);
        var set = builder.Build();
        a.Grad[0] = 3; a.Grad[1] = 0; c.Grad[0] = 4;
        Assert.Equal(5.0, GradientClipping.ClipGlobalNorm(set, 1.0), 6);
        Assert.Equal(0.6f, a.Grad[0], 5);
        Assert.Equal(0.8f, c.Grad[0], 5);
        Assert.Equal(1.0, GradientClipping.ClipGlobalNorm(set, 10.0), 5); // below the bound: untouched
        Assert.Equal(0.6f, a.Grad[0], 5);
        GradientClipping.AverageAccumulated(set, 4);
        Assert.Equal(0.15f, a.Grad[0], 5);
    }
}
