#!/usr/bin/python3
"""PyTorch reference for `rewardkit bench generate`: greedy generation from a GPT-2 language model with a KV cache.

The same work as RewardKit's GenerationBench: a GPT-2 LM (pre-LN blocks, fused qkv, causal attention, tanh GELU, lm_head
tied to the token embedding) with the layer/width/head/vocabulary shapes of ../shared/bench/torch_rm_bench.py's presets;
BATCH random prompts of PROMPT tokens (uniform in [1, V), prompt = half the preset's seq); one prefill of the prompts,
then NEW decode steps of one token per sequence, greedy (argmax) with the chosen token's log-probability kept (as
RewardKit's generator records it), no EOS stop. The cache is preallocated,
(B, H, P + NEW, hd) keys and values per layer, written in place; each step attends over the filled part
(the loop Hugging Face's GPT2LMHeadModel.generate runs, without its Python-side overhead of logits processors).
Reports generated tokens per second per round (best and median) and per CPU-second of the process (median), as one
JSON line with --json.

  /usr/bin/python3 bench/torch_generate_bench.py --preset tiny --batch 32 --new-tokens 64 --threads 2 --json

Threads and dispatch as torch_rm_bench.py: OMP/OpenBLAS threads = --threads, one inter-op thread, passive OpenMP
waiting, AVX-512 ATen kernels when the CPU has them.
"""
import argparse
import json
import os
import statistics
import sys
import time

PRESETS = {   # torch_rm_bench.py's shapes; prompt = seq / 2
    "tiny": dict(layers=2, d_model=128, heads=4, vocab=8192, prompt_tokens=32, repeats=5),
    "small": dict(layers=4, d_model=256, heads=4, vocab=16384, prompt_tokens=64, repeats=5),
    "gpt2": dict(layers=12, d_model=768, heads=12, vocab=50257, prompt_tokens=128, repeats=3),
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="small")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--d-model", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--vocab", type=int)
    ap.add_argument("--prompt-tokens", type=int)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=2, help="untimed rounds")
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--json", action="store_true", help="print exactly one JSON line of results")
    a = ap.parse_args()
    for k, v in PRESETS[a.preset].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    assert a.d_model % a.heads == 0, "d_model must be divisible by heads"
    return a


ARGS = parse_args()
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
with open("/proc/cpuinfo") as _f:
    _flags = next((l for l in _f if l.startswith("flags")), "").split()
if all(f in _flags for f in ("avx512f", "avx512bw", "avx512dq", "avx512vl")):
    os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx512")
LOAD_AT_START = os.getloadavg()[0]

import math  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h, self.hd = h, d // h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.fc_out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, k_cache, v_cache, start):
        """x (B, T, D) at positions [start, start + T); writes their k, v into the caches (B, H, cap, hd)."""
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q, k, v = (t.view(B, T, self.h, self.hd).transpose(1, 2) for t in (q, k, v))   # (B, H, T, hd)
        k_cache[:, :, start:start + T] = k
        v_cache[:, :, start:start + T] = v
        keys, values = k_cache[:, :, :start + T], v_cache[:, :, :start + T]
        att = (q @ keys.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd))               # (B, H, T, start + T)
        if T > 1:   # prefill: causal mask (a decode step's single query sees every cached key)
            mask = torch.ones(T, start + T, dtype=torch.bool).triu(start + 1)
            att = att.masked_fill(mask, float("-inf"))
        y = (F.softmax(att, dim=-1) @ values).transpose(1, 2).reshape(B, T, D)
        x = x + self.proj(y)
        return x + self.fc_out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class LanguageModel(nn.Module):
    def __init__(self, a, positions):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(a.vocab, a.d_model), nn.Embedding(positions, a.d_model)
        self.blocks = nn.ModuleList([Block(a.d_model, a.heads) for _ in range(a.layers)])
        self.ln_f = nn.LayerNorm(a.d_model)
        for name, p in self.named_parameters():   # GPT-2 init
            if p.dim() == 1:
                nn.init.zeros_(p) if name.endswith("bias") else nn.init.ones_(p)
            elif name.endswith("proj.weight") or name.endswith("fc_out.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * a.layers))
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, tokens, caches, start):
        """tokens (B, T) at positions [start, start + T) -> next-token logits of the last position (B, V)."""
        x = self.tok_emb(tokens) + self.pos_emb(torch.arange(start, start + tokens.shape[1]))[None]
        for blk, (k, v) in zip(self.blocks, caches):
            x = blk(x, k, v, start)
        return self.ln_f(x[:, -1]) @ self.tok_emb.weight.T                           # lm_head tied to wte


def generate(model, prompts, new_tokens, caches):
    P = prompts.shape[1]
    logits = model(prompts, caches, 0)                                               # prefill
    out, logprobs = [], []
    for s in range(new_tokens):
        tok = logits.argmax(dim=-1)                                                  # greedy
        logprobs.append(logits.log_softmax(dim=-1).gather(1, tok[:, None]))          # as RewardKit records them
        out.append(tok)
        if s + 1 < new_tokens:
            logits = model(tok[:, None], caches, P + s)                              # one decode step
    return torch.stack(out, dim=1)


def main():
    a = ARGS
    torch.manual_seed(a.seed)
    cap = a.prompt_tokens + a.new_tokens
    model = LanguageModel(a, cap).eval()
    gen = torch.Generator().manual_seed(a.seed + 1)
    prompts = torch.randint(1, a.vocab, (a.batch, a.prompt_tokens), generator=gen)
    hd = a.d_model // a.heads
    caches = [(torch.empty(a.batch, a.heads, cap, hd), torch.empty(a.batch, a.heads, cap, hd)) for _ in range(a.layers)]
    rates, cpu_rates, checksum = [], [], 0
    with torch.inference_mode():
        for _ in range(a.warmup):
            generate(model, prompts, a.new_tokens, caches)
        for r in range(a.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            tokens = generate(model, prompts, a.new_tokens, caches)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            rates.append(a.batch * a.new_tokens / dt)
            cpu_rates.append(a.batch * a.new_tokens / max(cpu, 1e-9))
            checksum = int(tokens.sum())
            if not a.json:
                print(f"  generate round {r}: {rates[-1]:.1f} tokens/s  ({dt * 1e3:.1f} ms)", flush=True)
    cap_line = [l for l in torch.__config__.show().splitlines() if "CPU capability" in l]
    res = dict(bench="torch_generate_bench", mode="generate", preset=a.preset, layers=a.layers, d_model=a.d_model,
               heads=a.heads, vocab=a.vocab, batch=a.batch, prompt_tokens=a.prompt_tokens, new_tokens=a.new_tokens,
               threads=torch.get_num_threads(), torch=torch.__version__,
               cpu_capability=cap_line[0].split(":")[-1].strip() if cap_line else "?",
               params=sum(p.numel() for p in model.parameters()),
               generate_tokens_per_s_best=max(rates), generate_tokens_per_s_median=statistics.median(rates),
               generate_tokens_per_s_rounds=[round(r, 4) for r in rates],
               generate_tokens_per_cpu_s_median=statistics.median(cpu_rates), tokens_checksum=checksum,
               loadavg_1min_start=LOAD_AT_START, loadavg_1min_end=os.getloadavg()[0])
    if a.json:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}))
    else:
        print(f"generation: best {max(rates):.1f}  median {statistics.median(rates):.1f} tokens/s")


if __name__ == "__main__":
    sys.exit(main())
