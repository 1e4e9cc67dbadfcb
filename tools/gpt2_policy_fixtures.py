#!/usr/bin/python3
"""PyTorch reference for RewardKit's GPT-2 policy (GptLanguageModel, Generation/TokenGenerator, TokenSampler).

A tiny GPT2LMHeadModel (lm_head tied to wte), computed in plain torch float64 (no `transformers`) with the forward of
tools/gpt2_parity_fixtures.py, on its seeded weights scaled up (wte x5, wpe x30, block weights x3) so that greedy
generations vary from step to step with clear top-1/top-2 margins; EOS is a token some rows reach and others do not:

    logits = ln_f(h) @ wte.T                                                   (B, T, V)
    logp[b, j] = log_softmax(logits[b, s_b + j - 1] / tau)[ids[b, s_b + j]]   response token j of row b (s_b its start)
    H[b, j]    = entropy of softmax(logits[b, s_b + j - 1] / tau)

1. Scoring: 3 prompt+response rows of different lengths, right-padded. logp and H at tau = 1 and tau = 0.5; gradients of
   L = sum(w_lp * logp + w_h * H) over real response tokens at tau = 0.5 (w_* fixed, written to the JSON).
2. Greedy generation, no cache: each prompt alone, one full forward per new token, argmax, stop at EOS or after
   MAX_NEW tokens (or n_positions). Writes the tokens, their log-probs and the smallest top-1/top-2 logit margin (must be clear of float32
   rounding).
3. Logit warpers as Hugging Face applies them (transformers' TemperatureLogitsWarper, TopKLogitsWarper,
   TopPLogitsWarper, in that order, float32): which tokens survive, for random logit rows and several settings.

Writes to tests/RewardKit.Tests/Models/Fixtures/:
    gpt2_tiny_policy/config.json          GPT2LMHeadModel config
    gpt2_tiny_policy/model.safetensors    weights, HF names, no lm_head tensor (tied)
    gpt2_tiny_policy.json                 everything above
    gpt2_tiny_policy_grads.safetensors    dL/d parameter, same names

Run: /usr/bin/python3 tools/gpt2_policy_fixtures.py   (Debian's python3-torch 1.13; deterministic on CPU)
"""
import json
import os

import torch

import gpt2_parity_fixtures as base

EOS = 27
CONFIG = dict(base.CONFIG, eos_token_id=EOS, pad_token_id=EOS)
SEED, SCALES = 105, {"wte": 5.0, "wpe": 30.0, "blocks": 3.0}
PROMPTS = [[5, 17, 42], [7], [50, 12, 2, 3, 9], [1, 2]]
RESPONSES = [[8, 63, 11, 29], [7, 31, 2, 63, 1, 4], [30]]   # scoring rows use PROMPTS[0..2]
MAX_NEW = 8
TAU = 0.5
WARPERS = [(1.0, 5, 1.0), (0.7, 0, 0.9), (1.3, 10, 0.8), (1.0, 0, 0.5), (1.0, 3, 0.95), (2.0, 0, 0.3)]


def logits_at(w, ids, lengths):
    return base.hidden(w, ids, lengths, CONFIG) @ w["transformer.wte.weight"].T      # (B, T, V)


def score(w, tau):
    rows = [p + r for p, r in zip(PROMPTS, RESPONSES)]
    T = max(len(r) for r in rows)
    ids = torch.tensor([r + [0] * (T - len(r)) for r in rows])
    lengths = torch.tensor([len(r) for r in rows])
    logits = logits_at(w, ids, lengths) / tau
    logp = torch.log_softmax(logits, dim=-1)
    R = max(len(r) for r in RESPONSES)
    lp = torch.zeros(len(rows), R, dtype=base.DTYPE)
    ent = torch.zeros(len(rows), R, dtype=base.DTYPE)
    for b, (p, r) in enumerate(zip(PROMPTS, RESPONSES)):
        for j, tok in enumerate(r):
            t = len(p) + j
            lp[b, j] = logp[b, t - 1, tok]
            ent[b, j] = -(logp[b, t - 1].exp() * logp[b, t - 1]).sum()
    return lp, ent


def greedy(w, prompt):
    tokens, logprobs, margin = [], [], float("inf")
    seq = list(prompt)
    while len(tokens) < MAX_NEW and len(seq) < CONFIG["n_positions"]:
        ids = torch.tensor([seq])
        logits = logits_at(w, ids, torch.tensor([len(seq)]))[0, -1]                 # (V) no cache: the whole text again
        top2 = torch.topk(logits, 2).values
        margin = min(margin, float(top2[0] - top2[1]))
        tok = int(torch.argmax(logits))
        logprobs.append(float(torch.log_softmax(logits, dim=-1)[tok]))
        tokens.append(tok)
        seq.append(tok)
        if tok == EOS:
            break
    return tokens, logprobs, margin


def warp(scores, tau, k, p):
    """transformers' TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper (min_tokens_to_keep = 1), float32."""
    scores = scores / tau
    if k > 0:
        k = min(k, scores.size(-1))
        scores = scores.masked_fill(scores < torch.topk(scores, k)[0][..., -1, None], -float("inf"))
    margin = float("inf")
    if p < 1.0:
        sorted_logits, sorted_indices = torch.sort(scores, descending=False)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        finite = torch.isfinite(sorted_logits)
        margin = float((cumulative - (1 - p)).abs()[finite].min())
        remove = cumulative <= (1 - p)
        remove[..., -1:] = 0
        remove = remove.scatter(1, sorted_indices, remove)
        scores = scores.masked_fill(remove, -float("inf"))
    return scores, margin


def main():
    torch.manual_seed(0)
    weights32 = base.init_weights(CONFIG, seed=SEED)
    del weights32["score.weight"]
    weights32["transformer.wte.weight"] *= SCALES["wte"]
    weights32["transformer.wpe.weight"] *= SCALES["wpe"]
    for name in weights32:
        if ".h." in name and name.endswith(".weight") and ".ln_" not in name:
            weights32[name] *= SCALES["blocks"]
    out = {"generator": "tools/gpt2_policy_fixtures.py", "torch": torch.__version__, "eos_token_id": EOS,
           "prompts": PROMPTS, "responses": RESPONSES, "tau": TAU, "max_new_tokens": MAX_NEW}

    # 1. scoring, with gradients at tau
    w = {k: v.to(base.DTYPE).clone().requires_grad_(True) for k, v in weights32.items()}
    g = torch.Generator().manual_seed(7)
    lp, ent = score(w, TAU)
    w_lp = torch.randn(lp.shape, generator=g, dtype=base.DTYPE)
    w_h = torch.randn(ent.shape, generator=g, dtype=base.DTYPE)
    mask = torch.zeros_like(lp)
    for b, r in enumerate(RESPONSES):
        mask[b, :len(r)] = 1
    loss = (mask * (w_lp * lp + w_h * ent)).sum()
    loss.backward()
    grads = {k: v.grad.clone() for k, v in w.items()}
    with torch.no_grad():
        lp1, ent1 = score(w, 1.0)
    out.update(logprobs_tau=lp.tolist(), entropy_tau=ent.tolist(), logprobs=lp1.tolist(), entropy=ent1.tolist(),
               weight_logprobs=w_lp.tolist(), weight_entropy=w_h.tolist(), loss=float(loss))

    # 2. greedy generation without a cache
    with torch.no_grad():
        gens = [greedy(w, p) for p in PROMPTS]
    out["greedy"] = [{"tokens": t, "logprobs": l, "margin": m} for t, l, m in gens]
    assert min(m for _, _, m in gens) > 1e-3, "greedy margins too small for a float32 comparison; change the seed"
    assert any(EOS in t for t, _, _ in gens) and any(EOS not in t for t, _, _ in gens), "want rows that stop at EOS and rows that do not"

    # 3. warpers
    g = torch.Generator().manual_seed(11)
    logits = (torch.randn(5, 40, generator=g) * 2).float()
    cases = []
    for tau, k, p in WARPERS:
        warped, margin = warp(logits, tau, k, p)
        assert margin > 1e-5, f"top-p boundary too close to call for tau={tau} k={k} p={p}"
        cases.append({"temperature": tau, "top_k": k, "top_p": p, "kept": torch.isfinite(warped).int().tolist()})
    out["warpers"] = {"logits": logits.tolist(), "cases": cases}

    folder = os.path.join(base.OUT, "gpt2_tiny_policy")
    os.makedirs(folder, exist_ok=True)
    config = dict(base.hf_config(CONFIG), architectures=["GPT2LMHeadModel"], use_cache=True)
    for key in ("id2label", "label2id", "num_labels"):
        del config[key]
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    base.write_safetensors(os.path.join(folder, "model.safetensors"), weights32)
    base.write_safetensors(os.path.join(base.OUT, "gpt2_tiny_policy_grads.safetensors"), grads)
    with open(os.path.join(base.OUT, "gpt2_tiny_policy.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("loss", float(loss))
    for t, l, m in gens:
        print("greedy", t, "margin", round(m, 4))


if __name__ == "__main__":
    main()
