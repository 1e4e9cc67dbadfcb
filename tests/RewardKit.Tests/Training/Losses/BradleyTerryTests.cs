using RewardKit.Tensors;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training.Losses;

/// <summary>Bradley-Terry against its formula, written out in double: margin, label smoothing, weights and centering.</summary>
public class BradleyTerryTests
{
    static readonly float[] Chosen = [1.0f, 0.2f, -0.5f, 2.5f];
    static readonly float[] Rejected = [0.0f, 0.4f, -1.5f, 0.5f];
    static readonly float[] Margins = [0.5f, 0.0f, 2.0f, 1.0f];
    static readonly float[] Weights = [1.0f, 0.5f, 2.0f, 0.0f];

    static double LogSigmoid(double x) => -Math.Log(1 + Math.Exp(-x));

    static double Reference(bool margin, double smoothing, bool weights, double center)
    {
        double sum = 0, total = 0, centering = 0;
        for (int i = 0; i < Chosen.Length; i++)
        {
            double delta = Chosen[i] - Rejected[i] - (margin ? Margins[i] : 0);
            double loss = -(1 - smoothing) * LogSigmoid(delta) - smoothing * LogSigmoid(-delta);
            double w = weights ? Weights[i] : 1;
            sum += w * loss;
            total += w;
            centering += Math.Pow(Chosen[i] + Rejected[i], 2);
        }
        return sum / total + center * centering / Chosen.Length;
    }

    static float Loss(bool margin, float smoothing, bool weights, float center)
    {
        var tape = new Tape();
        var c = Tensor.FromArray(Chosen, Chosen.Length).RequireGrad();
        var r = Tensor.FromArray(Rejected, Rejected.Length).RequireGrad();
        return BradleyTerry.Loss(tape, c, r, margin ? Tensor.FromArray(Margins, Margins.Length) : null, smoothing,
            weights ? Tensor.FromArray(Weights, Weights.Length) : null, center).ToScalar();
    }

    [Theory]
    [InlineData(false, 0f, false, 0f)]
    [InlineData(true, 0f, false, 0f)]
    [InlineData(false, 0.1f, false, 0f)]
    [InlineData(false, 0f, true, 0f)]
    [InlineData(false, 0f, false, 0.01f)]
    [InlineData(true, 0.2f, true, 0.05f)]
    public void The_loss_is_the_weighted_mean_of_the_smoothed_negative_log_sigmoid_of_the_margin_shifted_difference(
        bool margin, float smoothing, bool weights, float center) =>
        Assert.Equal(Reference(margin, smoothing, weights, center), Loss(margin, smoothing, weights, center), 5);

    [Fact]
    public void The_gradient_of_the_plain_loss_is_minus_one_minus_sigmoid_over_n()
    {
        var tape = new Tape();
        var c = Tensor.FromArray(Chosen, Chosen.Length).RequireGrad();
        var r = Tensor.FromArray(Rejected, Rejected.Length).RequireGrad();
        tape.Backward(BradleyTerry.Loss(tape, c, r));
        for (int i = 0; i < Chosen.Length; i++)
        {
            double sigmoid = 1 / (1 + Math.Exp(-(Chosen[i] - Rejected[i])));
            Assert.Equal(-(1 - sigmoid) / Chosen.Length, c.Grad[i], 5);
            Assert.Equal((1 - sigmoid) / Chosen.Length, r.Grad[i], 5);
        }
    }

    [Fact]
    public void Bad_smoothing_and_weights_are_refused_with_the_fix()
    {
        var tape = new Tape();
        var c = Tensor.FromArray(Chosen, Chosen.Length);
        var r = Tensor.FromArray(Rejected, Rejected.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => BradleyTerry.Loss(tape, c, r, labelSmoothing: 0.5f));
        var zero = Tensor.FromArray(new float[4], 4);
        Assert.Contains("at least one pair", Assert.Throws<ArgumentException>(() => BradleyTerry.Loss(tape, c, r, weights: zero)).Message);
    }
}
