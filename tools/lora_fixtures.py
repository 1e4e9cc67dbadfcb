#!/usr/bin/python3
"""PyTorch reference for RewardKit's LoRA reward model (peft is not installed: the LoRA math is written out here).

Over the tiny GPT-2 reward model of tools/gpt2_parity_fixtures.py (same seeded weights, same batch of 3 pairs), PEFT's
LoRA with fan_in_fan_out=True (GPT-2 Conv1D) on c_attn, c_proj (attention's and the MLP's) and c_fc, r = 4, alpha = 8:

    Conv1D'(x) = x @ W + b + (alpha / r) * (x @ A.T) @ B.T       A (r, in) = lora_A.weight, B (out, r) = lora_B.weight
    r = score'(ln_f(h))[b, length_b - 1]                        score' = modules_to_save copy of score (trained)
    loss = mean(-logsigmoid(r_chosen - r_rejected))

A, B and score' are random (B nonzero, so every factor gets a gradient). The merged model (PEFT's merge_and_unload:
W + (alpha / r) * (B @ A).T) is checked here to give the same rewards. Float64 on float32-representable values.

Writes to tests/RewardKit.Tests/Models/Fixtures/:
    lora_tiny_adapter/adapter_config.json        PEFT LoraConfig (base_model_name_or_path "../gpt2_tiny")
    lora_tiny_adapter/adapter_model.safetensors  PEFT's saved names: base_model.model.transformer.h.0.attn.c_attn.lora_A.weight,
                                                 ..., base_model.model.score.weight (F32)
    lora_tiny_grads.safetensors                  d loss / d (A, B, score') under the same names
    lora_tiny_parity.json                        ids, lengths, rewards, loss, merged rewards

Run: /usr/bin/python3 tools/lora_fixtures.py   (Debian's python3-torch 1.13; deterministic on CPU)
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_parity_fixtures as gp  # noqa: E402  (the base model, batch and safetensors writer)

RANK, ALPHA = 4, 8.0
SCALING = ALPHA / RANK
TARGETS = ["c_attn", "c_proj", "c_fc"]
PREFIX = "base_model.model."
DTYPE = torch.float64


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(e["shape"]).clone()
    return out


def adapted_modules(c):
    """(module, in, out) of every targeted Conv1D layer, in the model's order."""
    C = c["n_embd"]
    mods = []
    for i in range(c["n_layer"]):
        p = f"transformer.h.{i}."
        for name, fan_in, fan_out in [("attn.c_attn", C, 3 * C), ("attn.c_proj", C, C), ("mlp.c_fc", C, 4 * C), ("mlp.c_proj", 4 * C, C)]:
            if any(name.endswith("." + t) or name.split(".")[-1] == t for t in TARGETS):
                mods.append((p + name, fan_in, fan_out))
    return mods


def init_adapter(c, base, seed=4321):
    g = torch.Generator().manual_seed(seed)
    t = {}
    for module, fan_in, fan_out in adapted_modules(c):
        bound = 1 / math.sqrt(fan_in)
        t[PREFIX + module + ".lora_A.weight"] = ((torch.rand((RANK, fan_in), generator=g) * 2 - 1) * bound).float()
        t[PREFIX + module + ".lora_B.weight"] = (torch.randn((fan_out, RANK), generator=g) * 0.05).float()
    t[PREFIX + "score.weight"] = (base["score.weight"] + 0.1 * torch.randn(base["score.weight"].shape, generator=g)).float()
    return t


def conv(w, lora, module, x):
    """Conv1D with the LoRA update when the layer is adapted: x @ W + b + s * (x @ A.T) @ B.T."""
    y = x @ w[module + ".weight"] + w[module + ".bias"]
    a = lora.get(PREFIX + module + ".lora_A.weight")
    if a is None:
        return y
    return y + SCALING * ((x @ a.T) @ lora[PREFIX + module + ".lora_B.weight"].T)


def forward_lora(w, lora, ids, lengths, c):
    """ids (B, T), lengths (B) -> rewards (B) of the adapted model (the Conv1D layers through conv())."""
    B, T_ = ids.shape
    C, NH = c["n_embd"], c["n_head"]
    hs, eps = C // NH, c["layer_norm_epsilon"]
    mask = (torch.arange(T_)[None, :] < lengths[:, None]).to(DTYPE)
    extended = (1.0 - mask[:, None, None, :]) * torch.finfo(DTYPE).min
    causal = torch.tril(torch.ones(T_, T_, dtype=torch.bool))[None, None]
    h = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][torch.arange(T_)]
    for i in range(c["n_layer"]):
        p = f"transformer.h.{i}."
        a = F.layer_norm(h, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        q, k, v = conv(w, lora, p + "attn.c_attn", a).split(C, dim=2)
        q, k, v = [t.view(B, T_, NH, hs).permute(0, 2, 1, 3) for t in (q, k, v)]
        scores = q @ k.transpose(-1, -2) / math.sqrt(hs)
        scores = torch.where(causal, scores, torch.tensor(torch.finfo(DTYPE).min, dtype=DTYPE)) + extended
        att = (torch.softmax(scores, dim=-1) @ v).permute(0, 2, 1, 3).contiguous().view(B, T_, C)
        h = h + conv(w, lora, p + "attn.c_proj", att)
        m = F.layer_norm(h, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = h + conv(w, lora, p + "mlp.c_proj", gp.gelu_new(conv(w, lora, p + "mlp.c_fc", m)))
    h = F.layer_norm(h, (C,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    logits = (h @ lora[PREFIX + "score.weight"].T).squeeze(-1)
    return logits[torch.arange(B), lengths - 1]


def merged_weights(w, lora, c):
    """PEFT's merge_and_unload with fan_in_fan_out: W + s * (B @ A).T per adapted layer; score from the adapter."""
    m = {k: v.clone() for k, v in w.items()}
    for module, _, _ in adapted_modules(c):
        m[module + ".weight"] = m[module + ".weight"] + SCALING * (lora[PREFIX + module + ".lora_B.weight"] @ lora[PREFIX + module + ".lora_A.weight"]).T
    m["score.weight"] = lora[PREFIX + "score.weight"].clone()
    return m


def main():
    base32 = read_safetensors(os.path.join(gp.OUT, "gpt2_tiny", "model.safetensors"))
    lora32 = init_adapter(gp.CONFIG, base32)
    ids_c, len_c = gp.pad(gp.CHOSEN)
    ids_r, len_r = gp.pad(gp.REJECTED)
    ids, lengths = torch.cat([ids_c, ids_r]), torch.cat([len_c, len_r])
    pairs = len(gp.CHOSEN)

    w = {k: v.to(DTYPE) for k, v in base32.items()}                                  # frozen
    lora = {k: v.to(DTYPE).clone().requires_grad_(True) for k, v in lora32.items()}
    rewards = forward_lora(w, lora, ids, lengths, gp.CONFIG)
    loss = gp.bt_loss(rewards, pairs)
    loss.backward()
    grads = {k: v.grad.clone() for k, v in lora.items()}

    with torch.no_grad():
        merged = gp.forward(merged_weights(w, {k: v.detach() for k, v in lora.items()}, gp.CONFIG), ids, lengths, gp.CONFIG)
        base_rewards = gp.forward(w, ids, lengths, gp.CONFIG)
    assert torch.allclose(merged, rewards.detach(), atol=1e-12), (merged, rewards)
    assert not torch.allclose(base_rewards, rewards.detach(), atol=1e-3), "the adapter must change the rewards"

    folder = os.path.join(gp.OUT, "lora_tiny_adapter")
    os.makedirs(folder, exist_ok=True)
    config = {"base_model_name_or_path": "../gpt2_tiny", "bias": "none", "fan_in_fan_out": True, "inference_mode": True,
              "init_lora_weights": True, "lora_alpha": ALPHA, "lora_dropout": 0.0, "modules_to_save": ["score"],
              "peft_type": "LORA", "r": RANK, "target_modules": TARGETS, "task_type": "SEQ_CLS", "use_rslora": False}
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    gp.write_safetensors(os.path.join(folder, "adapter_model.safetensors"), lora32)
    gp.write_safetensors(os.path.join(gp.OUT, "lora_tiny_grads.safetensors"), grads)
    with open(os.path.join(gp.OUT, "lora_tiny_parity.json"), "w") as f:
        json.dump({"generator": "tools/lora_fixtures.py", "torch": torch.__version__, "r": RANK, "lora_alpha": ALPHA,
                   "target_modules": TARGETS, "pairs": pairs, "time": gp.T, "ids": ids.flatten().tolist(),
                   "lengths": lengths.tolist(), "rewards": rewards.tolist(), "loss": float(loss),
                   "merged_rewards": merged.tolist(), "base_rewards": base_rewards.tolist()}, f, indent=1)
    print(f"rewards {rewards.tolist()}\nbase    {base_rewards.tolist()}\nloss {float(loss):.8f}; {len(grads)} adapter tensors")


if __name__ == "__main__":
    main()
