"""The torch.mm (OpenBLAS) side of bench/gemm_cpu_bench: GFLOP/s per CPU-second x threads, same arguments minus the label:
/usr/bin/python3 bench/gemm_cpu_bench/torch_cpu.py threads M N K transpose(0|1|a|b|ab) samples"""
import os, sys, time
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = sys.argv[1]   # before torch loads OpenBLAS, which otherwise starts a thread per core
import torch
t, m, n, k, samples = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[6])
ta, tb = "a" in sys.argv[5], sys.argv[5] == "1" or "b" in sys.argv[5]
torch.set_num_threads(t)
a = torch.randn(k, m).t() if ta else torch.randn(m, k)   # views: OpenBLAS gets the transpose flags
b = torch.randn(n, k).t() if tb else torch.randn(k, n); c = torch.empty(m, n)
f = lambda: torch.mm(a, b, out=c)
for _ in range(3): f()
cpu, wall = [], []
for _ in range(samples):
    calls = 0; c0 = time.process_time(); w0 = time.perf_counter()
    while time.perf_counter() - w0 < 0.5: f(); calls += 1
    w = time.perf_counter() - w0; u = time.process_time() - c0
    cpu.append(2.0*m*n*k*calls/u/1e9*t); wall.append(2.0*m*n*k*calls/w/1e9)
cpu.sort(); wall.sort()
print(f"torch t={t} {f'({k}x{m})T' if ta else f'{m}x{k}'}@{k}x{n}{'T' if tb else ''} cpu-normalised {cpu[samples//2]:.1f} [{cpu[0]:.1f}..{cpu[-1]:.1f}]  wall {wall[samples//2]:.1f} [{wall[0]:.1f}..{wall[-1]:.1f}]")
