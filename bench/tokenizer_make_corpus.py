#!/usr/bin/env python3
"""Builds a ~20 MB JSONL training corpus ({"text": ...} per line) from the shared preference data by repeating it
with deterministic perturbations (word case changes, reversed words, digit swaps, shuffled turns), so that the
distinct-word count grows as in real text instead of staying at one copy's vocabulary.

usage: tokenizer_make_corpus.py OUT.jsonl [TARGET_MB] [SHARED_DIR]
"""
import json, random, re, sys, os

out = sys.argv[1]
target = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
shared = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..", "shared")

texts = []
for name, fields in [("hh-rlhf-harmless-test.jsonl", ["prompt", "chosen", "rejected"]),
                     ("pandalm-test.jsonl", ["prompt", "chosen", "rejected"]),
                     ("oasst-en100-ranked.jsonl", ["prompt", "responses"])]:
    with open(os.path.join(shared, "data", name), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            for k in fields:
                v = r.get(k)
                if isinstance(v, str): texts.append(v)
                elif isinstance(v, list): texts.extend(x for x in v if isinstance(x, str))

rng = random.Random(1234)
word = re.compile(r"[A-Za-z]+")

def perturb(t):
    def w(m):
        s = m.group(0); p = rng.random()
        if p < 0.05: return s.upper()
        if p < 0.10: return s[::-1]
        if p < 0.13: return s + rng.choice(["ing", "ed", "ly", "ness", "er"])
        return s
    t = word.sub(w, t)
    t = re.sub(r"\d", lambda m: str(rng.randrange(10)), t)
    parts = t.split("\n\n")
    if len(parts) > 2 and rng.random() < 0.3: rng.shuffle(parts)
    return "\n\n".join(parts)

written = 0
with open(out, "w", encoding="utf-8") as f:
    copy = 0
    while written < target * 1e6:
        for t in texts:
            s = t if copy == 0 else perturb(t)
            f.write(json.dumps({"text": s}, ensure_ascii=False) + "\n")
            written += len(s.encode("utf-8"))
            if written >= target * 1e6: break
        copy += 1
print(f"wrote {out}: {written / 1e6:.1f} MB of text from {len(texts)} base texts, {copy} passes")
