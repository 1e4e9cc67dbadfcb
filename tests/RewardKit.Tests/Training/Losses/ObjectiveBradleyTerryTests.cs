using RewardKit.Tensors;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training.Losses;

public class ObjectiveBradleyTerryTests
{
    static double LogSigmoid(double x) => -Math.Log(1 + Math.Exp(-x));

    [Fact]
    public void The_loss_is_the_sum_over_objectives_of_the_mean_bradley_terry_loss_on_the_labelled_pairs_and_skips_the_rest()
    {
        // 3 pairs × 2 objectives; pair 1 has no label for objective 0, pair 2 prefers the rejected response on objective 1.
        float[] chosen = [1.0f, 0.5f, -0.2f, 2.0f, 0.3f, -1.0f];
        float[] rejected = [0.0f, 0.1f, 5.0f, 1.0f, 0.4f, 1.0f];
        float[] labels = [1, 1, 0, 1, 1, -1];
        var tape = new Tape();
        var c = Tensor.FromArray(chosen, 3, 2).RequireGrad();
        var r = Tensor.FromArray(rejected, 3, 2).RequireGrad();

        var (loss, labelled) = ObjectiveBradleyTerry.Loss(tape, c, r, labels);

        double objective0 = -(LogSigmoid(1.0 - 0.0) + LogSigmoid(0.3 - 0.4)) / 2;                 // pairs 0 and 2
        double objective1 = -(LogSigmoid(0.5 - 0.1) + LogSigmoid(2.0 - 1.0) + LogSigmoid(-(-1.0 - 1.0))) / 3;
        Assert.Equal(objective0 + objective1, loss.ToScalar(), 5);
        Assert.Equal([2, 3], labelled);

        tape.Backward(loss);
        Assert.Equal(0f, c.Grad[2]);                                                               // unlabelled: no gradient
        double sigmoid = 1 / (1 + Math.Exp(-2.0));
        Assert.Equal((1 - sigmoid) / 3, c.Grad[5], 5);                                             // label −1: descent lowers the chosen reward
    }
}
