#!/usr/bin/env bash
# Ensembles on the built-in world: does the members' disagreement predict errors, and does labelling the pairs they
# disagree on most teach more than labelling random pairs? (issue 19, "Ensembles and uncertainty";
# results in bench/results/2026-12-08-ensembles.md)
#
#   [POOL=3000] bench/active_learning.sh WORK [K] [ROUNDS] [BUDGET]      (defaults 3 members, 2 rounds, 500 pairs per round)
#
# The world (data generate, seed 1): the first 1,000 training pairs are labelled, the next POOL (3,000) the unlabelled pool.
# Each round trains an ensemble of K tiny models (3 epochs, seed 42) on the labelled pairs, evaluates it on the test
# split (accuracy, uncertainty_auroc), then adds BUDGET pairs from the pool: those `rewardkit select` ranks highest
# (disagreement), or a seeded random draw. Round 0 is shared. Everything runs at nice 5 on 2 threads.
set -euo pipefail
WORK=${1:?usage: bench/active_learning.sh WORK [K] [ROUNDS] [BUDGET]}
K=${2:-3}; ROUNDS=${3:-2}; BUDGET=${4:-500}; POOL=${POOL:-3000}
RK=${RK:-"dotnet run --project $(dirname "$0")/../src/RewardKit.Cli -c Release --"}
run() { nice -n 5 $RK "$@"; }
mkdir -p "$WORK"; cd "$WORK"
[ -f data/train.jsonl ] || run data generate --out data --seed 1
head -n 1000 data/train.jsonl > labelled-0.jsonl
sed -n "1001,$((1000 + POOL))p" data/train.jsonl > pool-0.jsonl

train_eval() {   # $1 = run name, $2 = labelled file
  [ -f "$1/model/rewardkit.json" ] || run train --data "$2" --out "$1" --ensemble "$K" --threads 2 --seed 42 > "$1.train.log" 2>&1
  [ -f "eval-$1/report.json" ] || run eval --model "$1/model" --data data/test.jsonl --out "eval-$1" --probe-pairs 0 > "eval-$1.log" 2>&1
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(f"eval-{sys.argv[1]}/report.json"))
n = sum(1 for _ in open(sys.argv[2]))
acc = r["accuracy"]["value"] if isinstance(r["accuracy"], dict) else r["accuracy"]
print(json.dumps({"run": sys.argv[1], "labelled": n, "accuracy": acc, "uncertainty_auroc": r.get("uncertainty_auroc"),
                  "uncertainty_auroc_bernoulli": r.get("uncertainty_auroc_bernoulli")}))
PY
}

add_pairs() {   # $1 strategy, $2 round: labelled-$2 + BUDGET pool pairs -> labelled-$((2+1)), rest -> pool
  local s=$1 r=$2 n=$(( $2 + 1 ))
  local model; model=$([ "$r" = 0 ] && echo r0 || echo "$s-r$r")
  local prev_l; prev_l=$([ "$r" = 0 ] && echo labelled-0.jsonl || echo "$s-labelled-$r.jsonl")
  local prev_p; prev_p=$([ "$r" = 0 ] && echo pool-0.jsonl || echo "$s-pool-$r.jsonl")
  if [ "$s" = uncertainty ]; then
    run select --model "$model/model" --data "$prev_p" --budget "$BUDGET" --out "$s-selected-$n.jsonl" --by disagreement > "$s-select-$n.log" 2>&1
  fi
  python3 - "$s" "$prev_l" "$prev_p" "$s-selected-$n.jsonl" "$s-labelled-$n.jsonl" "$s-pool-$n.jsonl" "$BUDGET" "$r" <<'PY'
import json, random, sys
s, prev_l, prev_p, sel, out_l, out_p, budget, rnd = sys.argv[1:]
pool = open(prev_p).read().splitlines()
if s == "uncertainty":
    picked = [json.loads(l)["source_line"] - 1 for l in open(sel)]
else:
    picked = random.Random(1000 + int(rnd)).sample(range(len(pool)), int(budget))
chosen = set(picked)
with open(out_l, "w") as f:
    f.write(open(prev_l).read())
    for i in picked: f.write(pool[i] + "\n")
with open(out_p, "w") as f:
    for i, l in enumerate(pool):
        if i not in chosen: f.write(l + "\n")
PY
}

train_eval r0 labelled-0.jsonl | tee -a curve.jsonl
for r in $(seq 0 $((ROUNDS - 1))); do
  for s in uncertainty random; do
    add_pairs "$s" "$r"
    train_eval "$s-r$((r + 1))" "$s-labelled-$((r + 1)).jsonl" | tee -a curve.jsonl
  done
done
