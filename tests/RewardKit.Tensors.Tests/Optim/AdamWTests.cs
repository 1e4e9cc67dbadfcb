using RewardKit.Tensors.Optim;

namespace RewardKit.Tensors.Tests.Optim;

public class AdamWTests
{
    static (ParameterSet Set, Tensor W, Tensor B) Build()
    {
        var builder = new ParameterSet.Builder();
        var w = builder.Add("w", [3]);
        var b = builder.Add("b", [2], weightDecay: false);
        var set = builder.Build();
        new float[] { 0.5f, -1f, 2f }.CopyTo(w.Data);
        new float[] { 0.1f, -0.2f }.CopyTo(b.Data);
        return (set, w, b);
    }

    static void SetGradients(Tensor w, Tensor b, int t)
    {
        for (int i = 0; i < 3; i++) w.Grad[i] = (float)Math.Sin(t + i);
        for (int i = 0; i < 2; i++) b.Grad[i] = (float)Math.Sin(t + 3 + i);
    }

    [Fact]
    public void Ten_steps_match_torch_AdamW_with_a_no_decay_group()
    {
        // tools/engine_fixtures.py (PyTorch 1.13): lr 0.05, betas (0.9, 0.99), wd 0.1 on w only.
        var (set, w, b) = Build();
        var opt = new AdamW(set, learningRate: 0.05, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1);
        for (int t = 0; t < 10; t++) { SetGradients(w, b, t); opt.Step(); }
        float[] expectedW = [0.32985639572143555f, -1.1279492378234863f, 1.8321384191513062f];
        float[] expectedB = [0.18808026611804962f, -0.007543377578258514f];
        for (int i = 0; i < 3; i++) Assert.Equal(expectedW[i], w[i], 1e-5f);
        for (int i = 0; i < 2; i++) Assert.Equal(expectedB[i], b[i], 1e-5f);
        Assert.Equal(10, opt.StepCount);
    }

    [Fact]
    public void Saving_and_loading_the_state_resumes_the_same_trajectory()
    {
        var (set1, w1, b1) = Build();
        var a = new AdamW(set1, weightDecay: 0.1);
        for (int t = 0; t < 4; t++) { SetGradients(w1, b1, t); a.Step(); }
        var saved = a.SaveState();
        var values = set1.Values.ToArray();
        for (int t = 4; t < 8; t++) { SetGradients(w1, b1, t); a.Step(); }

        var (set2, w2, b2) = Build();
        values.CopyTo(set2.Values);
        var resumed = new AdamW(set2, weightDecay: 0.1);
        resumed.LoadState(saved);
        for (int t = 4; t < 8; t++) { SetGradients(w2, b2, t); resumed.Step(); }
        Assert.Equal(set1.Values.ToArray(), set2.Values.ToArray());
        var bad = new Dictionary<string, float[]>(saved) { ["exp_avg"] = new float[1] };
        Assert.Contains("exp_avg", Assert.Throws<ArgumentException>(() => resumed.LoadState(bad)).Message);
    }
}
