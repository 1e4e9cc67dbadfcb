#!/usr/bin/env bash
# Data-parallel training over MPI on one machine, measured with `rewardkit bench train` (same model, same global batch of
# P pairs, pairs/s of the global batch):
#   1x1  one process, 1 thread
#   2x1  mpirun -np 2, 1 thread per rank (each rank takes P/2 pairs of every batch, one gradient Allreduce per step)
#   1x2  one process, 2 threads
# The three run in turn, ROUNDS times (1x1 2x1 1x2 1x1 2x1 1x2 ...), so a drifting machine load hits each alike; quote
# medians over rounds. One JSON line per run, with "config" and "round" added, appended to OUT.
# usage: bench/mpi_compare.sh PRESET [ROUNDS] [OUT.jsonl] [extra bench train flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-tiny}; rounds=${2:-3}; out=${3:-bench/results/mpi_compare.jsonl}; shift $(( $# < 3 ? $# : 3 ))
cli=(dotnet src/RewardKit.Cli/bin/Release/net10.0/RewardKit.Cli.dll)
[ -f "${cli[1]}" ] || dotnet build src/RewardKit.Cli -c Release >/dev/null
export TERM=dumb   # no terminal escapes from .NET under mpirun's pseudo-terminals
bench=(bench train --preset "$preset" --json "$@")
tag() { grep '^{' | sed "s/^{/{\"config\":\"$1\",\"round\":$2,/" >> "$out"; }
for round in $(seq 1 "$rounds"); do
  "${cli[@]}" "${bench[@]}" --threads 1 | tag 1x1 "$round"
  mpirun --allow-run-as-root --oversubscribe -x TERM -np 2 "${cli[@]}" "${bench[@]}" --threads 1 | tag 2x1 "$round"
  "${cli[@]}" "${bench[@]}" --threads 2 | tag 1x2 "$round"
done
python3 - "$out" "$preset" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r.get("preset") == sys.argv[2]]
for config in ("1x1", "2x1", "1x2"):
    rs = [r for r in rows if r["config"] == config]
    if not rs: continue
    rate = statistics.median(r["train_pairs_per_s_median"] for r in rs)
    step = statistics.median(r["train_step_ms_median"] for r in rs)
    line = f"{sys.argv[2]:5} {config}: {rate:8.2f} pairs/s (median of {len(rs)} runs), step {step:8.1f} ms"
    cpu = [r["train_compute_cpu_ms_median"] for r in rs if "train_compute_cpu_ms_median" in r]
    if cpu: line += f", forward+backward CPU {statistics.median(cpu):7.1f} ms per step (per rank)"
    if config == "2x1":
        line += f", Allreduce {statistics.median(r['allreduce_ms_median'] for r in rs):.1f} ms = {statistics.median(r['allreduce_fraction_of_step'] for r in rs):.1%} of the step"
    print(line)
EOF
