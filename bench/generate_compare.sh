#!/usr/bin/env bash
# RewardKit vs PyTorch greedy KV-cache generation, same machine, same threads, interleaved.
#
#   bench/generate_compare.sh                        # presets tiny and small, 5 rounds, 2 threads, batch 32, 64 new tokens
#   PRESETS="tiny" ROUNDS=7 bench/generate_compare.sh
#   EXTRA="--new-tokens 32" bench/generate_compare.sh   # extra flags passed to both sides
#
# Each round runs, in alternating order (PyTorch first in odd rounds, RewardKit first in even ones):
#   /usr/bin/python3 bench/torch_generate_bench.py --preset P --batch 32 --new-tokens 64 --threads N --json
#   rewardkit bench generate --preset P --batch 32 --new-tokens 64 --threads N --json
# Each run reports its median round; the table gives, per preset, the median over runs of each side (wall tokens/s and
# tokens per CPU-second), the ratio of the medians and the range of the per-round ratios. Raw JSON lines go to $OUT
# (default /tmp/rewardkit_generate_compare.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESETS="${PRESETS:-tiny small}"
ROUNDS="${ROUNDS:-5}"
THREADS="${THREADS:-2}"
EXTRA="${EXTRA:-}"
OUT="${OUT:-${TMPDIR:-/tmp}/rewardkit_generate_compare.jsonl}"
PY=/usr/bin/python3
dotnet build src/RewardKit.Cli -c Release -v q -nologo >/dev/null
RK=src/RewardKit.Cli/bin/Release/net10.0/RewardKit.Cli
: > "$OUT"

run() {   # run SIDE CMD...: appends the JSON line tagged with side, preset and round
  local side=$1; shift
  local line
  if line=$("$@" 2>/tmp/rk_gen_compare_err.$$ | tail -n 1) && [[ $line == \{* ]]; then
    $PY -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(side=sys.argv[2], round=int(sys.argv[3])); print(json.dumps(d))' "$line" "$side" "$r" >> "$OUT"
  else
    echo "  $side failed: $(head -c 300 /tmp/rk_gen_compare_err.$$)" >&2
  fi
}

for p in $PRESETS; do
  for r in $(seq "$ROUNDS"); do
    torch_side() { run torch $PY bench/torch_generate_bench.py --preset "$p" --batch 32 --new-tokens 64 --threads "$THREADS" --json $EXTRA; }
    rk_side() { run rewardkit "$RK" bench generate --preset "$p" --batch 32 --new-tokens 64 --threads "$THREADS" --json $EXTRA; }
    if (( r % 2 == 1 )); then torch_side; rk_side; else rk_side; torch_side; fi
    echo "  $p round $r done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
done
rm -f /tmp/rk_gen_compare_err.$$

$PY - "$OUT" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'preset':7} {'metric':22} {'RewardKit':>10} {'PyTorch':>10} {'ratio':>6}  per-round ratios   load")
for p in dict.fromkeys(r["preset"] for r in rows):
    for key, label in (("generate_tokens_per_s_median", "tokens/s (wall)"), ("generate_tokens_per_cpu_s_median", "tokens/CPU-s")):
        rk = {r["round"]: r[key] for r in rows if r["preset"] == p and r["side"] == "rewardkit"}
        pt = {r["round"]: r[key] for r in rows if r["preset"] == p and r["side"] == "torch"}
        ratios = [rk[k] / pt[k] for k in rk if k in pt]
        loads = [r["loadavg_1min_start"] for r in rows if r["preset"] == p]
        print(f"{p:7} {label:22} {statistics.median(rk.values()):10.1f} {statistics.median(pt.values()):10.1f} "
              f"{statistics.median(rk.values()) / statistics.median(pt.values()):6.2f}  {min(ratios):.2f}-{max(ratios):.2f}"
              f"        {min(loads):.0f}-{max(loads):.0f}")
PYEOF
