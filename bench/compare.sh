#!/usr/bin/env bash
# RewardKit vs PyTorch reward-model training and inference, same machine, same threads, interleaved.
#
#   bench/compare.sh                     # presets tiny and small, 3 rounds, 2 threads
#   bench/compare.sh --gpt2              # also gpt2 (slow: ~1 min per PyTorch run)
#   PRESETS="tiny" ROUNDS=5 THREADS=2 bench/compare.sh
#   EXTRA="--steps 40" bench/compare.sh  # extra flags passed to both sides
#   FULL=1 bench/compare.sh              # also RewardKit with --full-last-block (every row of the last block, as the reference)
#
# Each round runs, in alternating order (PyTorch first in odd rounds, RewardKit first in even ones):
#   /usr/bin/python3 ../shared/bench/torch_rm_bench.py --preset P --threads N --json    (inference, then training)
#   rewardkit bench train --preset P --threads N --json
#   rewardkit bench infer --preset P --threads N --json
# Each run reports its median round; the table gives, per preset and metric, the median over runs of each side, the
# ratio of the medians, the range of each side over runs and the range of the per-round ratios (the spread: the
# machines are shared and noisy). RSS: RewardKit's train process against PyTorch's whole-run peak (its training
# phase dominates), RewardKit's infer process against PyTorch's peak after its inference phase; lower is better.
# Raw JSON lines go to $OUT (default /tmp/rewardkit_compare.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESETS="${PRESETS:-tiny small}"
for arg in "$@"; do
  case "$arg" in
    --gpt2) PRESETS="$PRESETS gpt2" ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument '$arg' (use --gpt2; settings via PRESETS, ROUNDS, THREADS, EXTRA)" >&2; exit 1 ;;
  esac
done
ROUNDS="${ROUNDS:-3}"
THREADS="${THREADS:-2}"
EXTRA="${EXTRA:-}"
FULL="${FULL:-0}"
OUT="${OUT:-${TMPDIR:-/tmp}/rewardkit_compare.jsonl}"
PY=/usr/bin/python3
TORCH_BENCH=../shared/bench/torch_rm_bench.py
[[ -f $TORCH_BENCH ]] || { echo "$TORCH_BENCH missing: run from a worktree beside /work/shared" >&2; exit 1; }

dotnet build src/RewardKit.Cli -c Release -v q -nologo >/dev/null
RK=src/RewardKit.Cli/bin/Release/net10.0/RewardKit.Cli
: > "$OUT"

run() {   # run LABEL CMD...: appends the JSON line (tagged with side and round) or a failure record
  local label=$1; shift
  local line
  if line=$("$@" 2>/tmp/rk_compare_err.$$ | tail -n 1) && [[ $line == \{* ]]; then
    $PY -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(side=sys.argv[2], round=int(sys.argv[3])); print(json.dumps(d))' "$line" "$label" "$r" >> "$OUT"
  else
    echo "  $label failed: $(head -c 300 /tmp/rk_compare_err.$$)" >&2
    $PY -c 'import json,sys; print(json.dumps(dict(side=sys.argv[1], round=int(sys.argv[2]), preset=sys.argv[3], failed=True)))' "$label" "$r" "$p" >> "$OUT"
  fi
}

for p in $PRESETS; do
  for r in $(seq "$ROUNDS"); do
    torch_side() { run torch $PY "$TORCH_BENCH" --preset "$p" --threads "$THREADS" --json $EXTRA; }
    rk_side() {
      run rk_train "$RK" bench train --preset "$p" --threads "$THREADS" --json $EXTRA
      run rk_infer "$RK" bench infer --preset "$p" --threads "$THREADS" --json $EXTRA
      if [[ $FULL == 1 ]]; then
        run rk_train_full "$RK" bench train --preset "$p" --threads "$THREADS" --json --full-last-block $EXTRA
        run rk_infer_full "$RK" bench infer --preset "$p" --threads "$THREADS" --json --full-last-block $EXTRA
      fi
    }
    if (( r % 2 == 1 )); then torch_side; rk_side; else rk_side; torch_side; fi
    echo "preset $p round $r/$ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
done
rm -f /tmp/rk_compare_err.$$

$PY - "$OUT" "$THREADS" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
threads = sys.argv[2]
# metric name, RewardKit side, RewardKit field, PyTorch field, higher is better
METRICS = [("train pairs/s", "rk_train", "train_pairs_per_s_median", "train_pairs_per_s_median", True),
           ("infer seqs/s", "rk_infer", "infer_seqs_per_s_median", "infer_seqs_per_s_median", True),
           ("peak RSS train MB", "rk_train", "peak_rss_mb", "peak_rss_mb", False),
           ("peak RSS infer MB", "rk_infer", "peak_rss_mb", "peak_rss_mb_after_infer", False),
           # FULL=1: every row of the last block, exactly the reference's products (the default computes only the reward rows)
           ("train, full last", "rk_train_full", "train_pairs_per_s_median", "train_pairs_per_s_median", True),
           ("infer, full last", "rk_infer_full", "infer_seqs_per_s_median", "infer_seqs_per_s_median", True)]
def by(side, preset):
    return {d["round"]: d for d in rows if d["side"] == side and d.get("preset") == preset and not d.get("failed")}
def fmt(x): return "n/a" if x is None else (f"{x:.1f}" if x >= 100 else f"{x:.2f}" if x >= 10 else f"{x:.3f}")
def rng(xs): return f"{fmt(min(xs))}-{fmt(max(xs))}" if xs else "n/a"
presets = list(dict.fromkeys(d["preset"] for d in rows if d.get("preset")))
print(f"\nRewardKit / PyTorch, {threads} threads; medians over rounds (each run's own median round); "
      "ratio > 1 means RewardKit is faster (throughput) or bigger (RSS)")
for p in presets:
    torch = by("torch", p)
    n = len(torch)
    print(f"\npreset {p}: {n} PyTorch runs, {len(by('rk_train', p))} RewardKit train runs, {len(by('rk_infer', p))} infer runs; "
          f"load avg {rng([d['loadavg_1min_start'] for s in ('torch','rk_train','rk_infer') for d in by(s, p).values()])}")
    print(f"  {'metric':18s} {'RewardKit':>10s} {'PyTorch':>10s} {'ratio':>6s}  {'RK range':>15s} {'PyTorch range':>15s} {'per-round ratios':>17s} {'target':>12s}")
    for name, side, rk_field, t_field, higher in METRICS:
        rk = by(side, p)
        if not rk and side.endswith("_full"): continue
        rk_v = [d[rk_field] for d in rk.values() if d.get(rk_field) is not None]
        t_v = [d[t_field] for d in torch.values() if d.get(t_field) is not None]
        pair = [rk[k][rk_field] / torch[k][t_field] for k in rk if k in torch and rk[k].get(rk_field) and torch[k].get(t_field)]
        rk_m = statistics.median(rk_v) if rk_v else None
        t_m = statistics.median(t_v) if t_v else None
        ratio = f"{rk_m / t_m:6.2f}" if rk_m and t_m else "   n/a"
        target = (">= 1.0x" if p == "gpt2" else ">= 1.5x") if higher else "<= 1.0x"
        spread = f"{min(pair):.2f}-{max(pair):.2f}" if pair else "n/a"
        print(f"  {name:18s} {fmt(rk_m):>10s} {fmt(t_m):>10s} {ratio}  {rng(rk_v):>15s} {rng(t_v):>15s} {spread:>17s} {target:>12s}")
    rk_t = by("rk_train", p)
    if rk_t:
        d = rk_t[max(rk_t)]
        print(f"  RewardKit train, last run: step median {d['train_step_ms_median']:.1f} ms = forward {d['train_forward_ms_median']:.1f} + "
              f"backward {d['train_backward_ms_median']:.1f} + clip {d['train_clip_ms_median']:.1f} + AdamW {d['train_optimizer_ms_median']:.1f}; "
              f"RSS after warm-up {d['rss_mb_after_warmup']:.0f} MB, end {d['rss_mb_end']:.0f} MB; "
              f"{d['train_allocated_kb_per_step']:.1f} KB allocated/step; loss {d['loss_first']:.4f} -> {d['loss_last']:.4f}")
PYEOF
