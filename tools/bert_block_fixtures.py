#!/usr/bin/python3
"""PyTorch reference for RewardKit's BERT cross-encoder reward model (src/RewardKit/Models/Bert).

Computes, in plain torch float64 (no `transformers`), exactly what Hugging Face's BertForSequenceClassification with
one label computes, for a tiny config with seeded weights and 3 preference pairs of [CLS] prompt [SEP] response [SEP]
rows of different lengths:

    h = LayerNorm(word[ids] + position[0..T) + token_type[types])       types: 0 up to the first [SEP], 1 after
    per layer (post-LayerNorm, as BertLayer):
        q, k, v = Linear(h) (weights [out, in]); scores = q.k / sqrt(hs) + (1 - mask) * finfo.min over keys; softmax
        h1 = LayerNorm(h + dense(attention));  h = LayerNorm(h1 + dense2(gelu(dense1(h1))))    gelu = exact (erf)
    r_cls  = classifier(tanh(pooler(h[:, 0])))                            (BertForSequenceClassification)
    r_mean = classifier(mean of h over real tokens)                       (RewardKit's mean pooling)
    loss = mean(-logsigmoid(r_chosen - r_rejected))

Writes to tests/RewardKit.Tests/Models/Fixtures/:
    bert_tiny/config.json, bert_tiny/model.safetensors   HF config and weights (bert.* and classifier.* names, F32)
    bert_tiny_grads.safetensors          d loss / d parameter with [CLS] pooling (F32)
    bert_tiny_mean_grads.safetensors     the same with mean pooling
    bert_tiny_parity.json                ids, lengths, token types, rewards (both poolings), losses, layer-0 output and
                                         last hidden states at row 0, and d loss / d (layer-0 input) at row 0 (one block's
                                         forward and backward)

Run: /usr/bin/python3 tools/bert_block_fixtures.py   (Debian's python3-torch 1.13; deterministic on CPU)
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from gpt2_parity_fixtures import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RewardKit.Tests", "Models", "Fixtures")
C, L, NH, FF, V, P, TYPES, EPS = 32, 2, 4, 64, 64, 16, 2, 1e-12
CLS, SEP, PAD = 2, 3, 0
DTYPE = torch.float64
# 3 pairs (chosen rows, then rejected rows): [CLS] prompt [SEP] response [SEP].
CHOSEN = [[CLS, 10, 11, 12, SEP, 20, 21, SEP], [CLS, 13, SEP, 22, 23, 24, 25, SEP], [CLS, 14, 15, SEP, 26, SEP]]
REJECTED = [[CLS, 10, 11, 12, SEP, 30, SEP], [CLS, 13, SEP, 31, SEP], [CLS, 14, 15, SEP, 32, 33, 34, 35, 36, SEP]]


def parameter_shapes():
    shapes = [("bert.embeddings.word_embeddings.weight", (V, C)), ("bert.embeddings.position_embeddings.weight", (P, C)),
              ("bert.embeddings.token_type_embeddings.weight", (TYPES, C)),
              ("bert.embeddings.LayerNorm.weight", (C,)), ("bert.embeddings.LayerNorm.bias", (C,))]
    for i in range(L):
        p = f"bert.encoder.layer.{i}."
        for part in ("query", "key", "value"):
            shapes += [(p + f"attention.self.{part}.weight", (C, C)), (p + f"attention.self.{part}.bias", (C,))]
        shapes += [(p + "attention.output.dense.weight", (C, C)), (p + "attention.output.dense.bias", (C,)),
                   (p + "attention.output.LayerNorm.weight", (C,)), (p + "attention.output.LayerNorm.bias", (C,)),
                   (p + "intermediate.dense.weight", (FF, C)), (p + "intermediate.dense.bias", (FF,)),
                   (p + "output.dense.weight", (C, FF)), (p + "output.dense.bias", (C,)),
                   (p + "output.LayerNorm.weight", (C,)), (p + "output.LayerNorm.bias", (C,))]
    shapes += [("bert.pooler.dense.weight", (C, C)), ("bert.pooler.dense.bias", (C,)),
               ("classifier.weight", (1, C)), ("classifier.bias", (1,))]
    return shapes


def init_weights(seed=4321):
    """Random weights (biases and LayerNorms randomised too, so that their gradients are tested), float32-representable."""
    g = torch.Generator().manual_seed(seed)
    weights = {}
    for name, shape in parameter_shapes():
        if "LayerNorm.weight" in name:
            w = 1 + 0.1 * torch.randn(shape, generator=g)
        elif name.endswith(".bias"):
            w = 0.05 * torch.randn(shape, generator=g)
        else:
            w = torch.randn(shape, generator=g) * (0.5 if name.startswith("classifier") else 0.2)
        weights[name] = w.float()
    return weights


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def token_types(rows):
    types = []
    for r in rows:
        first = r.index(SEP)
        types.append([0] * (first + 1) + [1] * (len(r) - first - 1))
    return types


def layer(w, h, extended, i):
    B, T, _ = h.shape
    hs = C // NH
    p = f"bert.encoder.layer.{i}."
    lin = lambda x, n: x @ w[p + n + ".weight"].T + w[p + n + ".bias"]
    q, k, v = [lin(h, f"attention.self.{n}").view(B, T, NH, hs).permute(0, 2, 1, 3) for n in ("query", "key", "value")]
    scores = q @ k.transpose(-1, -2) / math.sqrt(hs) + extended
    att = (torch.softmax(scores, dim=-1) @ v).permute(0, 2, 1, 3).reshape(B, T, C)
    h1 = F.layer_norm(h + lin(att, "attention.output.dense"), (C,), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], EPS)
    f = lin(gelu(lin(h1, "intermediate.dense")), "output.dense")
    return F.layer_norm(h1 + f, (C,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], EPS)


def forward(w, ids, types, lengths, pooling, capture=None):
    B, T = ids.shape
    mask = (torch.arange(T)[None, :] < lengths[:, None]).to(DTYPE)
    extended = (1.0 - mask[:, None, None, :]) * torch.finfo(DTYPE).min
    e = w["bert.embeddings.word_embeddings.weight"][ids] + w["bert.embeddings.position_embeddings.weight"][torch.arange(T)] \
        + w["bert.embeddings.token_type_embeddings.weight"][types]
    h = F.layer_norm(e, (C,), w["bert.embeddings.LayerNorm.weight"], w["bert.embeddings.LayerNorm.bias"], EPS)
    if capture is not None:
        h.retain_grad()
        capture["layer0_input"] = h
    for i in range(L):
        h = layer(w, h, extended, i)
        if capture is not None and i == 0:
            capture["layer0_output"] = h
    if capture is not None:
        capture["last_hidden"] = h
    if pooling == "cls":
        v = torch.tanh(h[:, 0] @ w["bert.pooler.dense.weight"].T + w["bert.pooler.dense.bias"])
    else:
        v = (h * mask[:, :, None]).sum(1) / lengths[:, None].to(DTYPE)
    return (v @ w["classifier.weight"].T + w["classifier.bias"]).squeeze(-1)


def main():
    weights32 = init_weights()
    rows = CHOSEN + REJECTED
    T = max(len(r) for r in rows)
    ids = torch.tensor([r + [PAD] * (T - len(r)) for r in rows], dtype=torch.long)
    types = torch.tensor([t + [0] * (T - len(t)) for t in token_types(rows)], dtype=torch.long)
    lengths = torch.tensor([len(r) for r in rows])
    pairs = len(CHOSEN)
    result = {"time": T, "pairs": pairs, "ids": ids.flatten().tolist(), "lengths": lengths.tolist(), "token_types": types.flatten().tolist()}
    os.makedirs(os.path.join(OUT, "bert_tiny"), exist_ok=True)
    for pooling, grads_file in (("cls", "bert_tiny_grads.safetensors"), ("mean", "bert_tiny_mean_grads.safetensors")):
        w = {k: v.to(DTYPE).clone().requires_grad_(True) for k, v in weights32.items()}
        capture = {} if pooling == "cls" else None
        rewards = forward(w, ids, types, lengths, pooling, capture)
        loss = -F.logsigmoid(rewards[:pairs] - rewards[pairs:]).mean()
        loss.backward()
        write_safetensors(os.path.join(OUT, grads_file), {k: v.grad if v.grad is not None else torch.zeros_like(v) for k, v in w.items()})
        result[f"rewards_{pooling}"] = rewards.tolist()
        result[f"loss_{pooling}"] = loss.item()
        if capture is not None:
            n = lengths[0].item()
            result["layer0_input_row0"] = capture["layer0_input"][0, :n].flatten().tolist()
            result["layer0_output_row0"] = capture["layer0_output"][0, :n].flatten().tolist()
            result["last_hidden_row0"] = capture["last_hidden"][0, :n].flatten().tolist()
            # One block's backward: d loss / d (layer-0 input) at row 0's real tokens.
            result["layer0_input_grad_row0"] = capture["layer0_input"].grad[0, :n].flatten().tolist()
    write_safetensors(os.path.join(OUT, "bert_tiny", "model.safetensors"), weights32)
    config = {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": V, "hidden_size": C,
              "num_hidden_layers": L, "num_attention_heads": NH, "intermediate_size": FF, "hidden_act": "gelu",
              "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "max_position_embeddings": P,
              "type_vocab_size": TYPES, "layer_norm_eps": EPS, "pad_token_id": PAD, "sep_token_id": SEP, "num_labels": 1,
              "initializer_range": 0.02}
    with open(os.path.join(OUT, "bert_tiny", "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(OUT, "bert_tiny_parity.json"), "w") as f:
        json.dump(result, f)
    print(f"rewards cls {result['rewards_cls']}, loss {result['loss_cls']:.6f}; mean loss {result['loss_mean']:.6f}")


if __name__ == "__main__":
    main()
