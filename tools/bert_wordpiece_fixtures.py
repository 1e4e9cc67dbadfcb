#!/usr/bin/python3
"""Reference ids for RewardKit's WordPiece tokenizer (src/RewardKit.Text/WordPieceTokenizer.cs).

A line-for-line port of Hugging Face transformers' slow BertTokenizer for uncased models (tokenization_bert.py:
BasicTokenizer with do_lower_case=True, tokenize_chinese_chars=True, strip_accents=None, then WordpieceTokenizer with
max_input_chars_per_word=100), run on tricky strings and on a seeded sample of the shared preference texts that contain
non-ASCII characters. One difference from BertTokenizer.tokenize, shared with RewardKit: special tokens written in the
text ("[SEP]") are plain text, not split off as special tokens (user text must not be able to forge a segment boundary).

usage: /usr/bin/python3 tools/bert_wordpiece_fixtures.py VOCAB.txt SHARED_DATA_DIR
    (VOCAB.txt: `rewardkit backbone export --name minilm --out DIR` writes DIR/vocab.txt)
Writes tests/RewardKit.Tests/Models/Fixtures/wordpiece_minilm.jsonl: {"text", "ids"} per line (ids without [CLS]/[SEP]).
"""
import json
import os
import random
import sys
import unicodedata

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RewardKit.Tests", "Models", "Fixtures", "wordpiece_minilm.jsonl")


def whitespace_tokenize(text):
    text = text.strip()
    return text.split() if text else []


def _is_whitespace(char):
    if char in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(char) == "Zs"


def _is_control(char):
    if char in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char):
    cp = ord(char)
    if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        return True
    return unicodedata.category(char).startswith("P")


def _is_chinese_char(cp):
    return ((0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or (0x20000 <= cp <= 0x2A6DF) or (0x2A700 <= cp <= 0x2B73F)
            or (0x2B740 <= cp <= 0x2B81F) or (0x2B820 <= cp <= 0x2CEAF) or (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F))


def basic_tokenize(text):
    out = []
    for char in text:                                                   # _clean_text
        cp = ord(char)
        if cp == 0 or cp == 0xFFFD or _is_control(char):
            continue
        out.append(" " if _is_whitespace(char) else char)
    text = "".join(out)
    text = "".join(f" {c} " if _is_chinese_char(ord(c)) else c for c in text)   # _tokenize_chinese_chars
    text = unicodedata.normalize("NFC", text)
    split_tokens = []
    for token in whitespace_tokenize(text):
        token = token.lower()
        token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")   # _run_strip_accents
        words, current = [], []
        for char in token:                                              # _run_split_on_punc
            if _is_punctuation(char):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
        split_tokens.extend(words)
    return whitespace_tokenize(" ".join(split_tokens))


def wordpiece(token, vocab):
    chars = list(token)
    if len(chars) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(chars):
        end, found = len(chars), None
        while start < end:
            sub = "".join(chars[start:end])
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def encode(text, vocab):
    return [vocab[p] for word in basic_tokenize(text) for p in wordpiece(word, vocab)]


TRICKY = [
    "Hello, World!", "  leading and trailing  ", "", "don't stop-believing... (really)?", "Café naïve résumé ÀÉÎÕÜ",
    "Straße ΟΔΟΣ Σίσυφος ǅungla İstanbul", "東京タワーは高い。中文字符", "한국어 문장입니다", "emoji 😀👍🏽 and ZWJ 👨‍👩‍👧",
    "tab\tnew\nline\rcr\x0bvt\x0cff", "zero\u200bwidth\u00adsoft\ufeffbom", "line\u2028sep\u2029para", "nul\x00byte \ufffd repl",
    "supercalifragilisticexpialidocious antidisestablishmentarianism", "a" * 101, "x" * 100, "[SEP] [CLS] [UNK] ##ing",
    "numbers 3.14159 1,000,000 2nd 1st", "mixed CASE WoRdS", "¿Qué? ¡Sí! «guillemets» „quotes“ ‘single’ “double”",
    "math ∑ ∫ √ ≤ ≥ ≠ ± × ÷ °C", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "ﬁ ﬂ ligatures ™ © ®", "Ελληνικά Русский язык עברית العربية",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐛𝐨𝐥𝐝", "combining e\u0301 a\u0308 n\u0303", "\n\nHuman: What's up?\n\nAssistant:",
]


def main():
    vocab_path, data_dir = sys.argv[1], sys.argv[2]
    with open(vocab_path, encoding="utf-8") as f:
        vocab = {line.rstrip("\r\n"): i for i, line in enumerate(f)}
    texts = set()
    for name in ("hh-rlhf-harmless-test.jsonl", "pandalm-test.jsonl", "oasst-en100-ranked.jsonl"):
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                for k in ("prompt", "chosen", "rejected"):
                    if isinstance(r.get(k), str):
                        texts.add(r[k])
                texts.update(x for x in r.get("responses", []) if isinstance(x, str))
    non_ascii = sorted(t for t in texts if any(ord(c) > 127 for c in t))
    sample = random.Random(7).sample(non_ascii, 300)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        for text in TRICKY + [t[:1500] for t in sample]:
            f.write(json.dumps({"text": text, "ids": encode(text, vocab)}, ensure_ascii=False) + "\n")
    print(f"{len(TRICKY)} tricky + {len(sample)} shared texts -> {OUT}")


if __name__ == "__main__":
    main()
