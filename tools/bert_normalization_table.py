"""Writes src/RewardKit.Text/Resources/bert-uncased-normalization.txt: for every code point whose uncased-BERT
normalisation changes it, the result. BERT's BasicTokenizer (Hugging Face transformers, do_lower_case=True) lowers each
whitespace token with str.lower(), then strips accents: unicodedata.normalize("NFD", ...) and drops category Mn.
Per code point that is f(c) = strip(c.lower()); Hangul syllables (decomposed algorithmically) and the Greek final
sigma (context-dependent in str.lower()) are handled in C#. One line per code point: "XXXX Y1 Y2 ..." (hex; no Y = removed).
Run: /usr/bin/python3 tools/bert_normalization_table.py"""
import os, sys, unicodedata

def strip(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "src", "RewardKit.Text", "Resources", "bert-uncased-normalization.txt")
lines = [f"# uncased BERT normalisation, Python {sys.version.split()[0]}, Unicode {unicodedata.unidata_version}; made by tools/bert_normalization_table.py"]
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF or 0xAC00 <= cp <= 0xD7A3 or cp == 0x03A3:
        continue
    c = chr(cp)
    mapped = strip(c.lower())
    if mapped != c:
        lines.append(" ".join([f"{cp:X}"] + [f"{ord(m):X}" for m in mapped]))
with open(out, "w", encoding="ascii", newline="\n") as f:
    f.write("\n".join(lines) + "\n")
print(f"{len(lines) - 1} code points -> {out}")
