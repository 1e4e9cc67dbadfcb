using RewardKit.Tensors.Optim;

namespace RewardKit.Tensors.Tests.Optim;

public class LearningRateScheduleTests
{
    [Fact]
    public void Linear_and_cosine_schedules_follow_the_transformers_formulas()
    {
        // get_linear_schedule_with_warmup(warmup 10, total 110) and get_cosine_schedule_with_warmup, hand-computed.
        var linear = LearningRateSchedule.LinearWithWarmup(1e-3, 10, 110);
        Assert.Equal(0, linear.At(0));
        Assert.Equal(5e-4, linear.At(5), 12);
        Assert.Equal(1e-3, linear.At(10), 12);
        Assert.Equal(5e-4, linear.At(60), 12);
        Assert.Equal(0, linear.At(200));
        var cosine = LearningRateSchedule.CosineWithWarmup(1e-3, 10, 110);
        Assert.Equal(1e-3, cosine.At(10), 12);
        Assert.Equal(1e-3 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)), cosine.At(35), 12);
        Assert.Equal(5e-4, cosine.At(60), 12);
        Assert.Equal(0, cosine.At(110), 12);
        var floored = LearningRateSchedule.CosineWithWarmup(1e-3, 0, 100, floor: 0.1);
        Assert.Equal(1e-4, floored.At(100), 12);
        Assert.Equal(2e-3, LearningRateSchedule.Constant(2e-3).At(12345));
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.LinearWithWarmup(1e-3, 20, 10));
    }
}
