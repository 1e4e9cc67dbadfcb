#!/usr/bin/python3
"""PyTorch reference for GptRewardModel.LanguageModelLoss: the causal-LM loss of GPT2LMHeadModel (lm_head tied to wte).

On the weights of tools/gpt2_parity_fixtures.py (its tiny config, same seed) and its 3 chosen rows, computes in float64
what Hugging Face's GPT2LMHeadModel computes with labels = ids, padding and (response-only) prompt positions set to -100:

    logits = ln_f(h) @ wte.T                       (B, T, V)
    loss = mean over t < T-1 with label[t+1] != -100 of cross_entropy(logits[b, t], ids[b, t+1])

Writes to tests/RewardKit.Tests/Models/Fixtures/:
    gpt2_tiny_lm.json                  ids, lengths, response starts, both losses
    gpt2_tiny_lm_grads.safetensors     d loss / d parameter of the full-sequence loss ("<name>") and the response-only
                                       loss ("response/<name>"); score.weight is absent (it gets no gradient)

Run: /usr/bin/python3 tools/gpt2_lm_fixtures.py   (after gpt2_parity_fixtures.py, whose weights it re-creates)
"""
import json
import os

import torch
import torch.nn.functional as F

import gpt2_parity_fixtures as base

RESPONSE_START = [3, 2, 1]   # first response token of each chosen row


def lm_loss(w, ids, lengths, starts):
    B, T = ids.shape
    logits = base.hidden(w, ids, lengths, base.CONFIG) @ w["transformer.wte.weight"].T    # (B, T, V)
    labels = ids.clone()
    pos = torch.arange(T)[None, :]
    labels[pos >= lengths[:, None]] = -100
    if starts is not None:
        labels[pos < torch.tensor(starts)[:, None]] = -100
    shift_logits, shift_labels = logits[:, :-1, :], labels[:, 1:]                          # as GPT2LMHeadModel
    return F.cross_entropy(shift_logits.reshape(-1, shift_logits.shape[-1]), shift_labels.reshape(-1), ignore_index=-100)


def main():
    torch.manual_seed(0)
    weights32 = base.init_weights(base.CONFIG)
    ids, lengths = base.pad(base.CHOSEN)
    out, grads = {}, {}
    for key, starts, prefix in (("loss", None, ""), ("response_loss", RESPONSE_START, "response/")):
        w = {k: v.to(base.DTYPE).clone().requires_grad_(True) for k, v in weights32.items()}
        loss = lm_loss(w, ids, lengths, starts)
        loss.backward()
        out[key] = float(loss)
        for k, v in w.items():
            if v.grad is not None and k != "score.weight":
                grads[prefix + k] = v.grad.clone()
    base.write_safetensors(os.path.join(base.OUT, "gpt2_tiny_lm_grads.safetensors"), grads)
    with open(os.path.join(base.OUT, "gpt2_tiny_lm.json"), "w") as f:
        json.dump({"generator": "tools/gpt2_lm_fixtures.py", "torch": torch.__version__, "time": base.T,
                   "pad_token_id": base.PAD, "ids": ids.flatten().tolist(), "lengths": lengths.tolist(),
                   "response_start": RESPONSE_START, **out}, f, indent=1)
    print(out)


if __name__ == "__main__":
    main()
