// Encodes the same texts as `rewardkit bench tokenizer` (every prompt/chosen/rejected/text/response(s) field of
// every record, in file order) with the npm package gpt-tokenizer (r50k_base = GPT-2's encoding) and prints JSON
// in the same shape: MB/s single-threaded (median of timed passes after 1.5 s of warm-up), token count, id hash.
// usage: node tokenizer_gpt_tokenizer.mjs DATA.jsonl [REPEATS]
import { encode } from 'gpt-tokenizer/encoding/r50k_base';
import fs from 'fs';

const path = process.argv[2];
const repeats = Number(process.argv[3] ?? 10);
const fields = ['prompt', 'chosen', 'rejected', 'text', 'response', 'responses'];
const texts = [];
for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  for (const f of fields) {
    const v = r[f];
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) for (const e of v) if (typeof e === 'string') texts.push(e);
  }
}
const enc = new TextEncoder();
const bytes = texts.reduce((n, t) => n + enc.encode(t).length, 0);
// Special tokens are plain text here, as in RewardKit's default.
const opts = { disallowedSpecial: new Set() };

const cold0 = performance.now();
let tokens = 0;
let hash = 14695981039346656037n;
const mask = (1n << 64n) - 1n;
for (const t of texts) for (const id of encode(t, opts)) {
  tokens++;
  hash = ((hash ^ BigInt(id)) * 1099511628211n) & mask;
}
const coldSeconds = (performance.now() - cold0) / 1000;

const pass = () => { const t0 = performance.now(); for (const t of texts) encode(t, opts); return (performance.now() - t0) / 1000; };
for (const w0 = performance.now(); performance.now() - w0 < 1500;) pass();
const times = Array.from({ length: repeats }, pass).sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const version = JSON.parse(fs.readFileSync(new URL('./node_modules/gpt-tokenizer/package.json', import.meta.url))).version;
console.log(JSON.stringify({
  bench: 'tokenizer', implementation: `gpt-tokenizer ${version} r50k_base (node ${process.version})`, data: path,
  texts: texts.length, bytes, tokens, ids_fnv1a: hash.toString(16).padStart(16, '0'),
  cold_mb_per_s: +(bytes / 1e6 / coldSeconds).toFixed(2), mb_per_s_1_thread: +(bytes / 1e6 / median).toFixed(2), repeats,
}));
