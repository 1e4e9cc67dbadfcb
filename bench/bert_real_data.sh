#!/usr/bin/env bash
# Fine-tunes a packaged pretrained encoder (minilm or arctic-xs) into a cross-encoder reward model on the 80 % prompt
# splits of the three real shared sets and evaluates each on its held-out 20 %, beside the length-only and response-only
# baselines (`eval --baseline-train`). usage: bench/bert_real_data.sh OUT [BACKBONE] [EPOCHS] [EXTRA TRAIN FLAGS...]
# RK may point at a built RewardKit.Cli binary (default: dotnet run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$1"; backbone="${2:-minilm}"; epochs="${3:-1}"; shift $(( $# < 3 ? $# : 3 ))
data="${REWARDKIT_SHARED:-$root/../shared}/data"
rk() { if [ -n "${RK:-}" ]; then "$RK" "$@"; else dotnet run --project "$root/src/RewardKit.Cli" -c Release -- "$@"; fi; }
mkdir -p "$out"
rk data split "$data/hh-rlhf-harmless-test.jsonl" --by prompt --fractions 0.8,0.2 --seed 1 --out "$out/hh"
rk data split "$data/pandalm-test.jsonl" --by prompt --fractions 0.8,0.2 --seed 1 --skip-invalid --out "$out/pandalm"
rk data split "$data/oasst-en100-ranked.jsonl" --by prompt --fractions 0.8,0.2 --seed 1 --out "$out/oasst"
run_set() {
  local set="$1"; shift
  local start=$(date +%s)
  /usr/bin/time -v -o "$out/$set-$backbone.time" \
    "${RK:-false}" train --backbone "$backbone" --data "$out/$set/train.jsonl" --out "$out/$set-$backbone" --epochs "$epochs" --threads "${THREADS:-2}" "$@" \
    > "$out/$set-$backbone.log" 2>&1 || { echo "train $set failed: see $out/$set-$backbone.log"; return 1; }
  echo "$set: trained in $(( $(date +%s) - start )) s, peak RSS $(grep Maximum "$out/$set-$backbone.time" | awk '{print $6}') kB" > "$out/$set-$backbone.summary"
  rk eval --model "$out/$set-$backbone/model" --data "$out/$set/test.jsonl" --baseline-train "$out/$set/train.jsonl" \
    --out "$out/$set-$backbone/report" --probe-pairs 0 > "$out/$set-$backbone/eval.txt" 2>&1
  grep -E "accuracy \(95|length-only|response-only" "$out/$set-$backbone/eval.txt" >> "$out/$set-$backbone.summary"
}
# SETS="pandalm oasst" picks sets; PARALLEL=1 runs them at once (THREADS=1 each suits a shared two-core machine).
for set in ${SETS:-hh pandalm oasst}; do
  if [ "${PARALLEL:-0}" = 1 ]; then run_set "$set" "$@" & else run_set "$set" "$@"; fi
done
wait
cat "$out"/*-"$backbone".summary 2>/dev/null || true
