using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;

namespace RewardKit.Tensors.Tests.Optim;

public class AdamTests
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

    static double Gradient(int t, int i) => Math.Sin(t + i);   // i = 0..4 over w then b

    static void SetGradients(ParameterSet set, int t)
    {
        for (int i = 0; i < set.Count; i++) set.Gradients[i] = (float)Gradient(t, i);
    }

    [Fact]
    public void Ten_steps_match_torch_Adam_with_L2_decay_and_a_no_decay_group()
    {
        // tools/engine_fixtures.py (PyTorch 1.13 torch.optim.Adam): lr 0.05, betas (0.9, 0.99), weight_decay 0.1 on w only.
        var (set, w, b) = Build();
        var opt = new Adam(set, learningRate: 0.05, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1);
        for (int t = 0; t < 10; t++) { SetGradients(set, t); opt.Step(); }
        float[] expectedW = [0.2807218134403229f, -1.1288013458251953f, 1.8217018842697144f];
        float[] expectedB = [0.18808026611804962f, -0.007543377578258514f];
        for (int i = 0; i < 3; i++) Assert.Equal(expectedW[i], w[i], 1e-5f);
        for (int i = 0; i < 2; i++) Assert.Equal(expectedB[i], b[i], 1e-5f);
        Assert.Equal(10, opt.StepCount);
    }

    [Fact]
    public void Three_steps_match_the_formulas_evaluated_in_double()
    {
        const double lr = 0.02, b1 = 0.8, b2 = 0.95, eps = 1e-6, wd = 0.3;
        var (set, _, _) = Build();
        double[] p = [0.5, -1, 2, 0.1, -0.2], m = new double[5], v = new double[5];
        bool[] decays = [true, true, true, false, false];
        var opt = new Adam(set, lr, b1, b2, eps, wd);
        for (int t = 0; t < 3; t++)
        {
            SetGradients(set, t);
            opt.Step();
            for (int i = 0; i < 5; i++)
            {
                double g = (float)Gradient(t, i) + (decays[i] ? wd * p[i] : 0);
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(b1, t + 1)), vHat = v[i] / (1 - Math.Pow(b2, t + 1));
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
            for (int i = 0; i < 5; i++) Assert.Equal(p[i], set.Values[i], 2e-6);
        }
    }

    [Fact]
    public void Adam_is_AdamW_fed_the_L2_gradient_and_AdamW_is_a_shrink_then_undecayed_AdamW()
    {
        const float lr = 0.05f, wd = 0.1f;
        var (adamSet, _, _) = Build();
        var (adamWSet, _, _) = Build();
        var (l2FedSet, _, _) = Build();
        var (shrunkSet, _, _) = Build();
        var adam = new Adam(adamSet, lr, weightDecay: wd);
        var adamW = new AdamW(adamWSet, lr, weightDecay: wd);
        var l2Fed = new AdamW(l2FedSet, lr, weightDecay: 0);
        var shrunk = new AdamW(shrunkSet, lr, weightDecay: 0);
        float keep = (float)(1 - (double)lr * wd);
        for (int t = 0; t < 6; t++)
        {
            foreach (var set in new[] { adamSet, adamWSet, l2FedSet, shrunkSet }) SetGradients(set, t);
            for (int i = 0; i < 3; i++) l2FedSet.Gradients[i] += wd * l2FedSet.Values[i];   // g + wd·p, decayed entries only
            for (int i = 0; i < 3; i++) shrunkSet.Values[i] *= keep;                         // p·(1 − lr·wd) before the step
            adam.Step(); adamW.Step(); l2Fed.Step(); shrunk.Step();
            Assert.Equal(l2FedSet.Values.ToArray(), adamSet.Values.ToArray());
            Assert.Equal(shrunkSet.Values.ToArray(), adamWSet.Values.ToArray());
        }
        for (int i = 0; i < 3; i++) Assert.NotEqual(adamWSet.Values[i], adamSet.Values[i]);   // decayed: the two rules differ
        for (int i = 3; i < 5; i++) Assert.Equal(adamWSet.Values[i], adamSet.Values[i]);      // no decay: identical
    }

    [Fact]
    public void Without_weight_decay_Adam_and_AdamW_are_bit_identical()
    {
        var (a, _, _) = Build();
        var (b, _, _) = Build();
        var adam = new Adam(a, 0.01, weightDecay: 0);
        var adamW = new AdamW(b, 0.01, weightDecay: 0);
        for (int t = 0; t < 5; t++) { SetGradients(a, t); SetGradients(b, t); adam.Step(); adamW.Step(); }
        Assert.Equal(b.Values.ToArray(), a.Values.ToArray());
    }

    [Fact]
    public void Saving_and_loading_the_state_resumes_the_same_trajectory()
    {
        var (set1, _, _) = Build();
        var a = new Adam(set1, weightDecay: 0.1);
        for (int t = 0; t < 4; t++) { SetGradients(set1, t); a.Step(); }
        var saved = a.SaveState();
        var values = set1.Values.ToArray();
        for (int t = 4; t < 8; t++) { SetGradients(set1, t); a.Step(); }

        var (set2, _, _) = Build();
        values.CopyTo(set2.Values);
        var resumed = new Adam(set2, weightDecay: 0.1);
        resumed.LoadState(saved);
        Assert.Equal(4, resumed.StepCount);
        for (int t = 4; t < 8; t++) { SetGradients(set2, t); resumed.Step(); }
        Assert.Equal(set1.Values.ToArray(), set2.Values.ToArray());
        var bad = new Dictionary<string, float[]>(saved) { ["exp_avg_sq"] = new float[2] };
        var error = Assert.Throws<ArgumentException>(() => resumed.LoadState(bad)).Message;
        Assert.Contains("Adam.LoadState", error);
        Assert.Contains("exp_avg_sq", error);
    }

    [Fact]
    public void Bad_hyperparameters_are_rejected_naming_the_argument()
    {
        var (set, _, _) = Build();
        Assert.Contains("beta2", Assert.Throws<ArgumentException>(() => new Adam(set, beta2: 1)).Message);
        Assert.Contains("weightDecay", Assert.Throws<ArgumentException>(() => new Adam(set, weightDecay: -1)).Message);
    }
}
