// SGEMM GFLOP/s normalised by the process's CPU time, for A/B tests of GEMM changes on a shared machine where wall-clock
// GFLOP/s mostly measure the other tenants. cpu-normalised = 2MNK·calls / CPU seconds · threads: what the threads did
// while they ran (a thread waiting on its partner spins, so imbalance still counts). Build two copies and interleave:
//   dotnet build bench/gemm_cpu_bench -c Release -o /tmp/gemm_a   (then change the kernel and build to /tmp/gemm_b)
//   for r in 1 2 3 4 5; do for v in a b; do dotnet /tmp/gemm_$v/gemm_cpu_bench.dll 2 2048 256 1024 0 5 $v; done; done
// args: threads M N K transpose samples label; transpose is 0, 1 or b (B stored transposed), a (A stored (K, M), the
// weight-gradient products) or ab; each sample runs 0.5 s; prints the median and range.
using System.Diagnostics;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

if (args.Length < 7) { Console.Error.WriteLine("usage: gemm_cpu_bench threads M N K transpose(0|1|a|b|ab) samples label"); return 2; }
int threads = int.Parse(args[0]), m = int.Parse(args[1]), n = int.Parse(args[2]), k = int.Parse(args[3]);
bool transposeA = args[4].Contains('a'), transposeB = args[4] == "1" || args[4].Contains('b');
int samples = int.Parse(args[5]);
var a = Tensor.Normal(new Rng(1), 0, 1, m * k).ToArray();
var b = Tensor.Normal(new Rng(2), 0, 1, k * n).ToArray();
var c = new float[m * n];
using var pool = new WorkerPool(threads);
var process = Process.GetCurrentProcess();
double flop = 2.0 * m * n * k;
for (int i = 0; i < 3; i++) Gemm.Multiply(a, b, c, m, n, k, transposeA, transposeB, false, pool);
var cpu = new List<double>();
var wall = new List<double>();
for (int s = 0; s < samples; s++)
{
    int calls = 0;
    process.Refresh();
    var cpu0 = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    while (sw.Elapsed.TotalSeconds < 0.5) { Gemm.Multiply(a, b, c, m, n, k, transposeA, transposeB, false, pool); calls++; }
    double seconds = sw.Elapsed.TotalSeconds;
    process.Refresh();
    double cpuSeconds = (process.TotalProcessorTime - cpu0).TotalSeconds;
    cpu.Add(flop * calls / cpuSeconds / 1e9 * threads);
    wall.Add(flop * calls / seconds / 1e9);
}
cpu.Sort();
wall.Sort();
Console.WriteLine($"{args[6]} t={threads} {(transposeA ? $"({k}x{m})T" : $"{m}x{k}")}@{k}x{n}{(transposeB ? "T" : "")} cpu-normalised {cpu[samples / 2]:F1} [{cpu[0]:F1}..{cpu[^1]:F1}]  wall {wall[samples / 2]:F1} [{wall[0]:F1}..{wall[^1]:F1}]");
return 0;
