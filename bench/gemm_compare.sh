#!/usr/bin/env bash
# RewardKit SGEMM vs OpenBLAS (PyTorch 1.13 / NumPy), same machine, one sitting, interleaved shape by shape.
#
#   bench/gemm_compare.sh              # threads 1 and 2, 2 rounds
#   THREADS="2" ROUNDS=3 SAMPLES=7 MIN_TIME=0.25 SHAPE_FILTER="x256" bench/gemm_compare.sh   # SHAPE_FILTER: grep -E over names
#
# For each thread count and round: ../shared/bench/gemm_bench.py --threads N --json once (its 7 shapes), then every
# RewardKit shape alternately through `rewardkit bench gemm --shape S` and bench/gemm_openblas.py --shape S (which
# covers the shapes gemm_bench.py lacks, incl. the transposed backward products). The machine is shared, so each
# side's number per shape is its best median over rounds (and over torch/numpy for OpenBLAS): the least-contended
# estimate of both. Raw JSON lines go to $OUT (default bench/gemm_compare.jsonl); the table goes to stdout.
# Needs OpenBLAS behind libblas.so.3 (apt-get install -y libopenblas0-pthread), else torch runs netlib's reference BLAS.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${THREADS:-1 2}"
ROUNDS="${ROUNDS:-2}"
SAMPLES="${SAMPLES:-5}"
MIN_TIME="${MIN_TIME:-0.2}"
OUT="${OUT:-bench/gemm_compare.jsonl}"
PY=/usr/bin/python3
SHARED_BENCH=../shared/bench/gemm_bench.py

dotnet build src/RewardKit.Cli -c Release -v q -nologo >/dev/null
RK=src/RewardKit.Cli/bin/Release/net10.0/RewardKit.Cli
: > "$OUT"

mapfile -t SHAPES < <($PY bench/gemm_openblas.py --list | grep -E -- "${SHAPE_FILTER:-.}")
for t in $THREADS; do
  # One FMA-peak measurement per thread count, reused by every RewardKit launch.
  peak=$($RK bench gemm --threads "$t" --json --shape sq256 --repeats 1 --min-time 0.05 | $PY -c 'import sys,json; print(json.loads(sys.stdin.readline())["peak_gflops"])')
  echo "threads=$t measured FMA peak ${peak} GFLOP/s" >&2
  for r in $(seq "$ROUNDS"); do
    if [[ -f $SHARED_BENCH ]]; then
      $PY "$SHARED_BENCH" --threads "$t" --json --samples "$SAMPLES" --min-time "$MIN_TIME" >> "$OUT"
    fi
    for s in "${SHAPES[@]}"; do
      $RK bench gemm --threads "$t" --json --shape "$s" --repeats "$SAMPLES" --min-time "$MIN_TIME" --peak-gflops "$peak" >> "$OUT"
      $PY bench/gemm_openblas.py --threads "$t" --shape "$s" --samples "$SAMPLES" --min-time "$MIN_TIME" >> "$OUT"
    done
    echo "threads=$t round $r done" >&2
  done
done

$PY - "$OUT" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
def key(d):
    if "transpose_a" in d:
        return (d["m"], d["n"], d["k"], d["transpose_a"], d["transpose_b"], d["threads"])
    return (d["M"], d["N"], d["K"], False, False, d["threads"])      # a ../shared/bench/gemm_bench.py line
def med(d): return d.get("gflops", d.get("gflops_median"))
rk, ob, rkb, obb, names, peaks, nominal = {}, {}, {}, {}, {}, {}, {}
for d in rows:
    k = key(d)
    if d["lib"] == "rewardkit":
        rk[k] = max(rk.get(k, 0), med(d)); rkb[k] = max(rkb.get(k, 0), d["gflops_best"]); names[k] = d["shape"]
        peaks[d["threads"]] = d["peak_gflops"]; nominal[d["threads"]] = d.get("nominal_peak_gflops", float("nan"))
    else:
        ob[k] = max(ob.get(k, 0), med(d)); obb[k] = max(obb.get(k, 0), d["gflops_best"])
nan = float("nan")
print("GFLOP/s: 'med' = best over rounds of the per-round median; 'best' = best single sample. OpenBLAS = best of torch.mm / numpy.")
print(f"{'shape (C = op(A) op(B))':28s} {'thr':>3s} {'M':>5s} {'N':>5s} {'K':>5s} {'RK med':>7s} {'OB med':>7s} {'ratio':>5s} "
      f"{'RK best':>7s} {'OB best':>7s} {'ratio':>5s} {'RK %pk':>6s} {'OB %pk':>6s} {'RK %nom':>7s}")
for k in sorted(rk, key=lambda k: (k[5], list(names).index(k))):
    o, ob_ = ob.get(k, nan), obb.get(k, nan); p = peaks[k[5]]
    print(f"{names[k]:28s} {k[5]:3d} {k[0]:5d} {k[1]:5d} {k[2]:5d} {rk[k]:7.1f} {o:7.1f} {rk[k] / o:5.2f} "
          f"{rkb[k]:7.1f} {ob_:7.1f} {rkb[k] / ob_:5.2f} {100 * rk[k] / p:5.1f}% {100 * o / p:5.1f}% {100 * rk[k] / nominal[k[5]]:6.1f}%")
for t in sorted(peaks):
    print(f"threads={t}: measured FMA peak {peaks[t]} GFLOP/s (%pk); nominal 2 FMA x 16 lanes x 2 x cpuinfo clock = {nominal[t]} GFLOP/s (%nom)")
PYEOF
