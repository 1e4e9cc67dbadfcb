// Times AttentionKernel forward (training: probabilities kept), backward and forward (inference) on one shape with
// right-padded rows (real lengths uniform in [T/2, T], as bench train/infer). Prints min / median / max in ms over
// the repetitions after three warm-up calls. Usage: B T C NH threads reps, e.g. 16 128 256 4 1 40 (the small preset).
using System.Diagnostics;
using RewardKit.Tensors.Kernels;

if (args.Length != 6)
{
    Console.Error.WriteLine("usage: AttentionBench B T C NH threads reps   (e.g. 16 128 256 4 1 40)");
    return 2;
}
int B = int.Parse(args[0]), T = int.Parse(args[1]), C = int.Parse(args[2]), NH = int.Parse(args[3]);
int threads = int.Parse(args[4]), reps = Math.Max(4, int.Parse(args[5]));
var random = new Random(1);
var qkv = new float[B * T * 3 * C];
for (int i = 0; i < qkv.Length; i++) qkv[i] = (float)(random.NextDouble() * 2 - 1);
var mask = new float[B * T];
for (int b = 0; b < B; b++)
{
    int length = random.Next(T / 2, T + 1);
    for (int t = 0; t < T; t++) mask[b * T + t] = t < length ? 1 : 0;
}
var att = new float[B * NH * T * T];
var y = new float[B * T * C];
var dout = new float[B * T * C];
var dqkv = new float[qkv.Length];
for (int i = 0; i < dout.Length; i++) dout[i] = (float)(random.NextDouble() * 2 - 1);
using var pool = new WorkerPool(threads);
List<double> forward = [], backward = [], inference = [];
for (int r = 0; r < reps; r++)
{
    var clock = Stopwatch.StartNew();
    AttentionKernel.Forward(qkv, mask, att, y, B, T, C, NH, pool);
    forward.Add(clock.Elapsed.TotalMilliseconds);
    clock.Restart();
    AttentionKernel.Backward(qkv, mask, att, dout, dqkv, B, T, C, NH, pool);
    backward.Add(clock.Elapsed.TotalMilliseconds);
    clock.Restart();
    AttentionKernel.Forward(qkv, mask, Span<float>.Empty, y, B, T, C, NH, pool);
    inference.Add(clock.Elapsed.TotalMilliseconds);
}
static string Summary(List<double> times)
{
    var sorted = times.Skip(3).Order().ToList();
    return $"min {sorted[0]:F2} med {sorted[sorted.Count / 2]:F2} max {sorted[^1]:F2}";
}
Console.WriteLine($"B={B} T={T} C={C} NH={NH} threads={threads}: forward(train) {Summary(forward)} | backward {Summary(backward)} | forward(infer) {Summary(inference)} ms");
return 0;
