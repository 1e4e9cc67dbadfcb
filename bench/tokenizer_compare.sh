#!/usr/bin/env bash
# Tokenizer throughput beside the npm package gpt-tokenizer (r50k_base = GPT-2), same text, same sitting.
# Installs gpt-tokenizer with npm into a temporary folder, runs `rewardkit bench tokenizer --json` and the node
# script bench/tokenizer_gpt_tokenizer.mjs on the same file, checks that both produced the same ids (token count
# and FNV-1a hash of the id stream) and prints the single-thread ratio (target >= 3x).
# usage: bench/tokenizer_compare.sh [DATA.jsonl] [TOKENIZER_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${REWARDKIT_SHARED:-$root/../shared}"
data="${1:-$shared/data/hh-rlhf-harmless-test.jsonl}"
tokdir="${2:-$shared/tokenizers/gpt2}"
version="${GPT_TOKENIZER_VERSION:-4.0.0}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "gpt-tokenizer@$version" >/dev/null )
cp "$root/bench/tokenizer_gpt_tokenizer.mjs" "$tmp/"

dotnet build "$root/src/RewardKit.Cli" -c Release -v q -nologo >/dev/null
rk="$root/src/RewardKit.Cli/bin/Release/net10.0/RewardKit.Cli"
ours="$("$rk" bench tokenizer --json --tokenizer "$tokdir" --data "$data")"
theirs="$(node "$tmp/tokenizer_gpt_tokenizer.mjs" "$data")"
echo "$ours"
echo "$theirs"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
same = a["tokens"] == b["tokens"] and a["ids_fnv1a"] == b["ids_fnv1a"]
r1 = a["mb_per_s_1_thread"] / b["mb_per_s_1_thread"]
r2 = a["mb_per_s_2_threads"] / b["mb_per_s_1_thread"]
print(json.dumps({"same_ids": same, "tokens": a["tokens"], "bytes": a["bytes"],
                  "rewardkit_mb_per_s_1_thread": a["mb_per_s_1_thread"], "rewardkit_mb_per_s_2_threads": a["mb_per_s_2_threads"],
                  "gpt_tokenizer_mb_per_s": b["mb_per_s_1_thread"],
                  "ratio_1_thread": round(r1, 2), "ratio_2_threads_vs_1": round(r2, 2), "target_1_thread": 3.0,
                  "meets_target": r1 >= 3.0}))
sys.exit(0 if same else 1)
PY
