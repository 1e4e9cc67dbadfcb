#!/usr/bin/env python3
"""Python-side reference for RewardKit.Text's GPT-2 pre-tokenizer and BPE, as OpenAI's encoder.py computes them.

OpenAI's GPT-2 encoder.py splits text with the `regex` module (not `re`):
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
then merges each piece's byte-level symbols by BPE rank. This script does the same (the BPE loop below is
encoder.py's algorithm) and writes tests/RewardKit.Text.Tests/Fixtures/gpt2_python_regex.json:

    white_space    every code point regex's \\s matches (all 0x110000 checked): Unicode's White_Space property
    cases          seeded random strings (every whitespace/separator class mixed with letters, digits, punctuation,
                   contractions, emoji, CJK and supplementary-plane letters and digits) with their pieces and ids

Before writing, the BPE is checked against ../shared/tokenizers/gpt2/expected_ids.jsonl (the reference ids).
Run with a Python that has `regex` (pip install regex; Debian: python3-regex):
    python3 tools/gpt2_regex_fixtures.py [SHARED_DIR]
"""
import json, os, random, sys
import regex

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared")
GPT2 = os.path.join(SHARED, "tokenizers", "gpt2")
OUT = os.path.join(HERE, "..", "tests", "RewardKit.Text.Tests", "Fixtures", "gpt2_python_regex.json")
PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


with open(os.path.join(GPT2, "encoder.json"), encoding="utf-8") as f:
    ENCODER = json.load(f)
with open(os.path.join(GPT2, "vocab.bpe"), encoding="utf-8") as f:
    MERGES = [tuple(line.split()) for line in f.read().split("\n")[1:-1]]
RANKS = dict(zip(MERGES, range(len(MERGES))))
BYTE_ENCODER = bytes_to_unicode()


def bpe(token):
    """encoder.py's Encoder.bpe: merge the lowest-ranked adjacent pair everywhere, left to right, until none is left."""
    word = tuple(token)
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        first, second = min(pairs, key=lambda p: RANKS.get(p, float("inf")))
        if (first, second) not in RANKS:
            break
        merged, i = [], 0
        while i < len(word):
            if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = tuple(merged)
    return word


def encode(text):
    pieces = PATTERN.findall(text)
    ids = []
    for piece in pieces:
        symbols = "".join(BYTE_ENCODER[b] for b in piece.encode("utf-8"))
        ids.extend(ENCODER[s] for s in bpe(symbols))
    return pieces, ids


def check_reference_ids():
    n = 0
    with open(os.path.join(GPT2, "expected_ids.jsonl"), encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            _, ids = encode(record["text"])
            assert ids == record["ids"], f"BPE differs from expected_ids.jsonl on {record['text']!r}"
            n += 1
    print(f"BPE matches all {n} records of expected_ids.jsonl")


WHITE_SPACE = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and regex.match(r"\s", chr(c))]
SEPARATORS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and regex.match(r"\p{Z}", chr(c))]
# Characters that look like whitespace but are not White_Space (format characters and information separators).
NOT_WHITE_SPACE = [0xFEFF, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0x1C, 0x1D, 0x1E, 0x1F, 0x00AD, 0x061C, 0xFFFC]
GROUPS = [
    (6, [chr(c) for c in WHITE_SPACE + SEPARATORS + NOT_WHITE_SPACE]),
    (3, [" ", "  ", "\n", "\n\n", "\r\n", "\t"]),
    (5, list("abcXYZ") + ["hello", "World", "Führer", "naïve", "straße", "Ελλάδα", "привет", "e\u0301", "नमस्ते", "مرحبا"]),
    (2, ["日本語", "テキスト", "中文", "한국어", "ｆｕｌｌ"]),
    (3, list("0123456789") + ["42", "٣", "१२", "１２", "²", "½", "Ⅻ"]),
    (3, list(".,!?;:-()[]{}\"'/\\@#$%^&*_+=<>|~`") + ["“", "”", "—", "…", "¿", "「", "」", "’"]),
    (3, ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "’s", "don't", "we'll", "'"]),
    (2, ["😀", "🦙", "👍🏽", "😶\u200d🌫\ufe0f", "🇺🇸", "✅", "\ufe0f", "❤"]),
    (2, ["\U0001D400", "\U0001D41A", "\U00020000", "\U00010330", "\U00010400", "\U0001D7CE", "\U000104A0", "\U00010107"]),
    (1, ["<|endoftext|>", "Human:", "Assistant:"]),
]


def random_text(rng):
    weights = [w for w, _ in GROUPS]
    parts = []
    for _ in range(rng.randint(1, 16)):
        _, items = rng.choices(GROUPS, weights)[0]
        parts.append(rng.choice(items))
    return "".join(parts)


def main():
    check_reference_ids()
    rng = random.Random(21)
    cases = []
    for _ in range(800):
        text = random_text(rng)
        pieces, ids = encode(text)
        cases.append({"text": text, "pieces": pieces, "ids": ids})
    out = {
        "generator": "tools/gpt2_regex_fixtures.py",
        "regex_version": regex.__version__,
        "white_space": WHITE_SPACE,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(WHITE_SPACE)} White_Space code points, {len(cases)} cases")


if __name__ == "__main__":
    main()
