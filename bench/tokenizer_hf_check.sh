#!/usr/bin/env bash
# Checks that a tokenizer folder written by RewardKit opens in Hugging Face's tokenizers.js (npm
# @huggingface/tokenizers, installed into a temporary folder) and gives the same ids as `rewardkit tokenizer encode
# --allow-special` (Hugging Face always matches added tokens) on a JSONL file with a "text" field.
# usage: bench/tokenizer_hf_check.sh TOKENIZER_DIR TEXTS.jsonl
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$1"; data="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "@huggingface/tokenizers@0.2.0" >/dev/null )
cat > "$tmp/check.mjs" <<'JS'
import { Tokenizer } from "@huggingface/tokenizers";
import fs from "fs";
const [dir, data] = process.argv.slice(2);
const tok = new Tokenizer(JSON.parse(fs.readFileSync(dir + "/tokenizer.json", "utf8")),
                          JSON.parse(fs.readFileSync(dir + "/tokenizer_config.json", "utf8")));
for (const line of fs.readFileSync(data, "utf8").split("\n"))
  if (line.trim()) console.log(JSON.stringify({ ids: tok.encode(JSON.parse(line).text, { add_special_tokens: false }).ids }));
JS
dotnet build "$root/src/RewardKit.Cli" -c Release -v q -nologo >/dev/null
"$root/src/RewardKit.Cli/bin/Release/net10.0/RewardKit.Cli" tokenizer encode --tokenizer "$dir" --allow-special < "$data" > "$tmp/ours.jsonl"
node "$tmp/check.mjs" "$dir" "$data" > "$tmp/hf.jsonl"
lines=$(wc -l < "$tmp/ours.jsonl")
if cmp -s "$tmp/ours.jsonl" "$tmp/hf.jsonl"; then echo "same ids on all $lines lines"; else
  echo "ids differ:"; diff <(nl "$tmp/ours.jsonl") <(nl "$tmp/hf.jsonl") | head -5; exit 1; fi
