#!/usr/bin/python3
"""OpenBLAS side of `rewardkit bench gemm`: every shape it runs, including the transposed backward products.

../shared/bench/gemm_bench.py covers the square shapes and three forward transformer shapes; this script times the
same way (3 warm-ups, inner loop sized to --min-time, median and best of --samples) on RewardKit's full list, through
torch.mm on transposed *views* (OpenBLAS gets the transpose flags, no copies) and numpy.matmul, and prints one JSON line
per (lib, shape) with the keys RewardKit prints (m, n, k, transpose_a, transpose_b, threads) so the two outputs join.

Usage: /usr/bin/python3 bench/gemm_openblas.py --threads 2 [--samples 7] [--min-time 0.25] [--shape dW]
"""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--samples", type=int, default=7)
ap.add_argument("--min-time", type=float, default=0.25)
ap.add_argument("--libs", default="torch,numpy")
ap.add_argument("--shape", default=None, help="only the shape with exactly this name")
ap.add_argument("--list", action="store_true", help="print the shape names, one a line, and exit")
args = ap.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)


def shapes():
    """(name, m, n, k, transpose_a, transpose_b), the same list as BenchGemmCommand.Shapes()."""
    out = [(f"sq{s}", s, s, s, False, False) for s in (256, 512, 1024, 2048)]
    for m, k, n in ((2048, 256, 1024), (2048, 1024, 256), (2048, 256, 768), (2048, 768, 3072), (2048, 3072, 768)):
        out.append((f"fwd {m}x{k}@{k}x{n}", m, n, k, False, False))
        out.append((f"dX  {m}x{n}@({k}x{n})T", m, k, n, False, True))
        out.append((f"dW  ({m}x{k})T@{m}x{n}", k, n, m, True, False))
    return out


if args.list:
    print("\n".join(s[0] for s in shapes()))
    sys.exit(0)

import ctypes  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(args.threads)
try:
    ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(args.threads)
except OSError:
    pass


def time_fn(fn, min_time, samples):
    for _ in range(3):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-6)
    inner = max(1, int(min_time / one))
    res = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        res.append((time.perf_counter() - t0) / inner)
    return sorted(res)


def make_fn(lib, m, n, k, ta, tb):
    g = np.random.default_rng(0)
    a = g.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
    b = g.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    if lib == "numpy":
        av, bv = (a.T if ta else a), (b.T if tb else b)
        c = np.empty((m, n), dtype=np.float32)
        return lambda: np.matmul(av, bv, out=c)
    ta_, tb_ = torch.from_numpy(a), torch.from_numpy(b)
    av, bv = (ta_.t() if ta else ta_), (tb_.t() if tb else tb_)
    c = torch.empty(m, n)
    return lambda: torch.mm(av, bv, out=c)


for lib in args.libs.split(","):
    for name, m, n, k, ta, tb in shapes():
        if args.shape and args.shape != name:
            continue
        ts = time_fn(make_fn(lib, m, n, k, ta, tb), args.min_time, args.samples)
        flop = 2.0 * m * n * k
        print(json.dumps(dict(lib=lib, shape=name, m=m, n=n, k=k, transpose_a=ta, transpose_b=tb, threads=args.threads,
                              gflops=round(flop / ts[len(ts) // 2] / 1e9, 2), gflops_best=round(flop / ts[0] / 1e9, 2),
                              seconds=ts[len(ts) // 2])))
        sys.stdout.flush()
