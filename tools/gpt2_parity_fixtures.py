#!/usr/bin/python3
"""PyTorch reference for RewardKit's GPT-2 reward model (as llm.c's test_gpt2 does for its GPT-2).

Computes, in plain torch (no `transformers`), exactly what Hugging Face's GPT2ForSequenceClassification with one
label computes, for a tiny config with seeded weights and a fixed batch of 3 preference pairs of different lengths:

    h = wte[ids] + wpe[0..T)
    per block: h = h + c_proj(attn(c_attn(ln_1(h))));  h = h + mlp_c_proj(gelu_new(c_fc(ln_2(h))))
        Conv1D(x) = x @ W + b with W stored [in, out]; attention scores q.k / sqrt(hs), causal mask and the padding
        mask as HF applies them (masked scores = finfo.min), softmax over keys
    r = score(ln_f(h))[b, length_b - 1]          score: Linear(C, 1, bias=False), read at the LAST REAL token
    loss = mean(-logsigmoid(r_chosen - r_rejected))    (Bradley-Terry)

The pad id equals the EOS id and EOS also appears as a real token, so reading the reward "before the first pad"
(huggingface/trl#937) would give different numbers: the fixture catches that bug.

The reference runs in float64 on float32-representable weights (so it is the exact answer for the float32 weights
the C# side loads). Then 10 AdamW steps (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on all but biases
and LayerNorm weights, global-norm clipping 1.0 as torch.nn.utils.clip_grad_norm_), step s on batch s (batch 0 is the
one above, batches 1..9 are random pairs, so the loss cannot collapse to 0 by memorising one batch), recording each
step's loss before its update.

Writes to tests/RewardKit.Tests/Models/Fixtures/:
    gpt2_tiny/config.json             HF GPT-2 config (GPT2ForSequenceClassification, num_labels 1)
    gpt2_tiny/model.safetensors       initial weights, HF names and layouts (F32)
    gpt2_tiny_grads.safetensors       d loss / d parameter at the initial weights (F32), same names
    gpt2_tiny_parity.json             ids, lengths, rewards, loss, AdamW losses and grad norms

Run: /usr/bin/python3 tools/gpt2_parity_fixtures.py   (Debian's python3-torch 1.13; deterministic on CPU)
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RewardKit.Tests", "Models", "Fixtures")

CONFIG = dict(n_layer=2, n_embd=32, n_head=2, n_positions=16, vocab_size=64, layer_norm_epsilon=1e-5,
              initializer_range=0.02, eos_token_id=63, pad_token_id=63)
T = 8
EOS = PAD = 63
# 3 pairs: chosen rows then rejected rows. EOS (63) is a real token in several rows (as the last token, and in the middle).
CHOSEN = [[5, 17, 42, 8, 63, 11, 29, 63], [7, 7, 31, 2, 63], [50, 12, 63]]
REJECTED = [[5, 17, 42, 9, 30, 1], [3, 14, 15, 92 % 64, 65 % 64, 35, 8, 9], [50, 63]]
STEPS, LR, WEIGHT_DECAY, MAX_NORM = 10, 1e-3, 0.01, 1.0
DTYPE = torch.float64


def parameter_shapes(c):
    C, L, V, P = c["n_embd"], c["n_layer"], c["vocab_size"], c["n_positions"]
    shapes = [("transformer.wte.weight", (V, C)), ("transformer.wpe.weight", (P, C))]
    for i in range(L):
        p = f"transformer.h.{i}."
        shapes += [(p + "ln_1.weight", (C,)), (p + "ln_1.bias", (C,)),
                   (p + "attn.c_attn.weight", (C, 3 * C)), (p + "attn.c_attn.bias", (3 * C,)),
                   (p + "attn.c_proj.weight", (C, C)), (p + "attn.c_proj.bias", (C,)),
                   (p + "ln_2.weight", (C,)), (p + "ln_2.bias", (C,)),
                   (p + "mlp.c_fc.weight", (C, 4 * C)), (p + "mlp.c_fc.bias", (4 * C,)),
                   (p + "mlp.c_proj.weight", (4 * C, C)), (p + "mlp.c_proj.bias", (C,))]
    shapes += [("transformer.ln_f.weight", (C,)), ("transformer.ln_f.bias", (C,)), ("score.weight", (1, C))]
    return shapes


def init_weights(c, seed=1234):
    """HF GPT-2 init, except that biases and LayerNorm parameters are randomised too so their gradients are tested."""
    g = torch.Generator().manual_seed(seed)
    std, proj_std = c["initializer_range"], c["initializer_range"] / math.sqrt(2 * c["n_layer"])
    weights = {}
    for name, shape in parameter_shapes(c):
        if name.endswith("c_proj.weight"):
            w = torch.randn(shape, generator=g) * proj_std
        elif ".ln_" in name and name.endswith(".weight"):
            w = 1 + 0.1 * torch.randn(shape, generator=g)
        elif name.endswith(".bias"):
            w = 0.02 * torch.randn(shape, generator=g)
        else:
            # HF std 0.02; the score a little larger so that the rewards differ visibly between rows
            w = torch.randn(shape, generator=g) * (0.2 if name == "score.weight" else 0.02)
        weights[name] = w.float()  # float32-representable values
    return weights


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward(w, ids, lengths, c):
    """ids (B, T) long, lengths (B) -> rewards (B), as HF GPT2ForSequenceClassification computes them."""
    h = hidden(w, ids, lengths, c)
    logits = (h @ w["score.weight"].T).squeeze(-1)                                  # (B, T)
    return logits[torch.arange(B := ids.shape[0]), lengths - 1]                      # (B) last real token


def hidden(w, ids, lengths, c):
    """ids (B, T) long, lengths (B) -> ln_f(h) (B, T, C), GPT2Model's last_hidden_state."""
    B, T_ = ids.shape
    C, NH = c["n_embd"], c["n_head"]
    hs = C // NH
    eps = c["layer_norm_epsilon"]
    mask = (torch.arange(T_)[None, :] < lengths[:, None]).to(DTYPE)                  # (B, T) attention_mask
    extended = (1.0 - mask[:, None, None, :]) * torch.finfo(DTYPE).min               # (B, 1, 1, T) as HF
    causal = torch.tril(torch.ones(T_, T_, dtype=torch.bool))[None, None]            # (1, 1, T, T)
    h = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][torch.arange(T_)]   # (B, T, C)
    for i in range(c["n_layer"]):
        p = f"transformer.h.{i}."
        a = F.layer_norm(h, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]           # Conv1D (B, T, 3C)
        q, k, v = qkv.split(C, dim=2)
        q, k, v = [t.view(B, T_, NH, hs).permute(0, 2, 1, 3) for t in (q, k, v)]     # (B, NH, T, hs)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hs)                             # (B, NH, T, T)
        scores = torch.where(causal, scores, torch.tensor(torch.finfo(DTYPE).min, dtype=DTYPE))
        scores = scores + extended
        att = torch.softmax(scores, dim=-1) @ v                                      # (B, NH, T, hs)
        att = att.permute(0, 2, 1, 3).contiguous().view(B, T_, C)
        h = h + (att @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"])
        m = F.layer_norm(h, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu_new(m @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        h = h + (m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
    return F.layer_norm(h, (C,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)


def random_batch(g, pairs):
    rows = []
    for _ in range(2 * pairs):
        n = int(torch.randint(2, T + 1, (1,), generator=g))
        rows.append(torch.randint(0, CONFIG["vocab_size"], (n,), generator=g).tolist())
    return rows[:pairs], rows[pairs:]


def pad(rows):
    return torch.tensor([r + [PAD] * (T - len(r)) for r in rows], dtype=torch.long), torch.tensor([len(r) for r in rows])


def bt_loss(rewards, pairs):
    return -F.logsigmoid(rewards[:pairs] - rewards[pairs:]).mean()


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def hf_config(c):
    return {"activation_function": "gelu_new", "architectures": ["GPT2ForSequenceClassification"], "attn_pdrop": 0.0,
            "bos_token_id": c["eos_token_id"], "embd_pdrop": 0.0, "eos_token_id": c["eos_token_id"],
            "id2label": {"0": "LABEL_0"}, "initializer_range": c["initializer_range"], "label2id": {"LABEL_0": 0},
            "layer_norm_epsilon": c["layer_norm_epsilon"], "model_type": "gpt2", "n_ctx": c["n_positions"],
            "n_embd": c["n_embd"], "n_head": c["n_head"], "n_inner": None, "n_layer": c["n_layer"],
            "n_positions": c["n_positions"], "num_labels": 1, "pad_token_id": c["pad_token_id"], "resid_pdrop": 0.0,
            "vocab_size": c["vocab_size"]}


def main():
    torch.manual_seed(0)
    weights32 = init_weights(CONFIG)
    ids_c, len_c = pad(CHOSEN)
    ids_r, len_r = pad(REJECTED)
    ids, lengths = torch.cat([ids_c, ids_r]), torch.cat([len_c, len_r])
    pairs = len(CHOSEN)

    w = {k: v.to(DTYPE).clone().requires_grad_(True) for k, v in weights32.items()}
    rewards = forward(w, ids, lengths, CONFIG)
    loss = bt_loss(rewards, pairs)
    loss.backward()
    grads = {k: v.grad.clone() for k, v in w.items()}

    # What the pad-search bug (first pad − 1, pad == EOS) would read instead: must differ from the right answer.
    first_pad = torch.where(ids == PAD, torch.arange(T), T).min(dim=1).values
    buggy = (first_pad - 1) % T

    # 10 AdamW steps, step s on batch s.
    g = torch.Generator().manual_seed(99)
    batches = [(ids, lengths)]
    for _ in range(STEPS - 1):
        c, r = random_batch(g, pairs)
        (ic, lc), (ir, lr) = pad(c), pad(r)
        batches.append((torch.cat([ic, ir]), torch.cat([lc, lr])))
    params = {k: v.to(DTYPE).clone().requires_grad_(True) for k, v in weights32.items()}
    no_decay = lambda n: n.endswith(".bias") or (".ln_" in n and n.endswith(".weight"))
    opt = torch.optim.AdamW([{"params": [p for n, p in params.items() if not no_decay(n)], "weight_decay": WEIGHT_DECAY},
                             {"params": [p for n, p in params.items() if no_decay(n)], "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.999), eps=1e-8)
    losses, norms = [], []
    for step_ids, step_lengths in batches:
        opt.zero_grad()
        step_loss = bt_loss(forward(params, step_ids, step_lengths, CONFIG), pairs)
        step_loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), MAX_NORM)))
        opt.step()
        losses.append(float(step_loss))

    folder = os.path.join(OUT, "gpt2_tiny")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(hf_config(CONFIG), f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), weights32)
    write_safetensors(os.path.join(OUT, "gpt2_tiny_grads.safetensors"), grads)
    with open(os.path.join(OUT, "gpt2_tiny_parity.json"), "w") as f:
        json.dump({
            "generator": "tools/gpt2_parity_fixtures.py", "torch": torch.__version__,
            "pairs": pairs, "time": T, "pad_token_id": PAD,
            "ids": ids.flatten().tolist(), "lengths": lengths.tolist(),
            "rewards": rewards.tolist(), "loss": float(loss),
            "pad_search_rows": buggy.tolist(),
            "adamw": {"lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": WEIGHT_DECAY, "max_grad_norm": MAX_NORM,
                      "losses": losses, "grad_norms": norms,
                      "ids": [b[0].flatten().tolist() for b in batches], "lengths": [b[1].tolist() for b in batches]},
        }, f, indent=1)
    print(f"rewards {rewards.tolist()}\nloss {float(loss):.8f}\nlosses {losses}\ngrad norms {norms}\npad-search rows {buggy.tolist()} vs last real {(lengths - 1).tolist()}")


if __name__ == "__main__":
    main()
