#!/usr/bin/python3
"""Time per op family from a `perf record` of a RewardKit run (exclusive samples per method, grouped).

    DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -F 500 -o /tmp/train.data -- \\
        src/RewardKit.Cli/bin/Release/net10.0/RewardKit.Cli bench train --preset gpt2 --steps 2 --repeats 1 --json
    perf report -i /tmp/train.data --no-children --sort symbol 2>/dev/null | /usr/bin/python3 bench/perf_families.py

DOTNET_PerfMapEnabled writes /tmp/perf-PID.map so perf can name JIT-compiled methods; W^X off keeps their addresses
single-mapped. The families are matched on method names, first match wins; `other` lists its largest members.
"""
import re
import sys

FAMILIES = [
    ("gemm micro-kernel", r"Avx512Kernel::Run|Avx2Kernel::Run|ScalarKernel::Run"),
    ("gemm packing", r"GemmDriver::Pack|GemmDriver::Transpose|GemmDriver::CopySliver|GemmDriver::MergeTile|GemmDriver::Compute"),
    ("attention softmax / dS (TensorPrimitives)", r"AttentionKernel|TensorPrimitives|VectorMath|ExpOperator"),
    ("layer norm", r"Normalization|LayerNorm"),
    ("gelu / bias", r"Gelu|Activations|AddRows|SumRows"),
    ("element-wise (add, copy, scale, clear)", r"Elementwise|Tensor::|Arena|SpanHelpers|Buffer::Memmove|memmove|memset|memcpy"),
    ("optimizer / clipping", r"OptimizerKernels|AdamW|ClipGlobalNorm|GlobalNorm"),
    ("worker pool (spin, wait, dispatch)", r"WorkerPool|SpinWait|Thread::|Monitor"),
    ("embedding / gather", r"Embedding|Gather"),
    ("setup, not the step (init RNG, FMA peak)", r"Rng::|__cos|__sin|__ieee754_log|FmaPeak"),
]

total = 0.0
by_family = {name: 0.0 for name, _ in FAMILIES}
by_family["kernel (page faults, scheduling, syscalls)"] = 0.0
by_family["other"] = 0.0
other = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+\[(.)\]\s+(.*)", line)
    if not m:
        continue
    pct, kind, sym = float(m.group(1)), m.group(2), m.group(3).strip()
    sym = re.sub(r"\s+-\s+-\s*$", "", sym)
    total += pct
    if kind == "k":
        by_family["kernel (page faults, scheduling, syscalls)"] += pct
        continue
    method = sym.split("(")[0]   # the class and method, not the argument types
    for name, pattern in FAMILIES:
        if re.search(pattern, method):
            by_family[name] += pct
            break
    else:
        by_family["other"] += pct
        other[sym] = other.get(sym, 0) + pct
print(f"{'family':40s} {'share of samples':>16s}")
for name, pct in sorted(by_family.items(), key=lambda kv: -kv[1]):
    print(f"{name:40s} {pct:15.1f}%")
print(f"{'(total)':40s} {total:15.1f}%")
print("\nlargest in 'other':")
for sym, pct in sorted(other.items(), key=lambda kv: -kv[1])[:12]:
    print(f"  {pct:5.1f}%  {sym[:140]}")
