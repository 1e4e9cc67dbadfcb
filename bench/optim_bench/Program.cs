// AdamW step and global-norm clipping: the vectorised, threaded fast paths against their scalar references, interleaved
// in one process on one parameter set (args: parameter count, default 8,000,000). Prints the median, min and max ms.
using System.Diagnostics;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;

int n = args.Length > 0 ? int.Parse(args[0]) : 8_000_000;
const int Rounds = 5, Calls = 5;
var builder = new ParameterSet.Builder();
builder.Add("w", [n - 1000]);
builder.Add("b", [1000], weightDecay: false);
var set = builder.Build();
Tensor.Normal(new Rng(1), 0, 1, set.Count).Data.CopyTo(set.Values);
Tensor.Normal(new Rng(2), 0, 1, set.Count).Data.CopyTo(set.Gradients);
using var pool2 = new WorkerPool(2);
var reference = new AdamW(set, 1e-4, weightDecay: 0.01);
var fast1 = new AdamW(set, 1e-4, weightDecay: 0.01);
var fast2 = new AdamW(set, 1e-4, weightDecay: 0.01, pool: pool2);
var cases = new (string Name, Action Run)[]
{
    ("adamw_reference", reference.StepReference),
    ("adamw_1_thread", fast1.Step),
    ("adamw_2_threads", fast2.Step),
    ("norm_reference", () => GradientClipping.GlobalNormReference(set.Gradients)),
    ("norm_1_thread", () => GradientClipping.GlobalNorm(set.Gradients)),
    ("norm_2_threads", () => GradientClipping.GlobalNorm(set.Gradients, pool2)),
};
var times = cases.ToDictionary(c => c.Name, _ => new List<double>());
for (int r = 0; r < Rounds; r++)
    foreach (var (name, run) in cases)
    {
        run();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < Calls; i++) run();
        times[name].Add(sw.Elapsed.TotalMilliseconds / Calls);
    }
foreach (var (name, t) in times)
{
    t.Sort();
    Console.WriteLine($"{name,-16} n={n} median {t[Rounds / 2],7:F2} ms  min {t[0],7:F2}  max {t[^1],7:F2}  ({Rounds} rounds x {Calls} calls, interleaved)");
}
