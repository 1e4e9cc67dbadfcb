#!/usr/bin/python3
"""PyTorch reference for RewardKit's separate-encoder fusion head (src/RewardKit/Models/Separate/SeparateFusion.cs):

    f = cat([p, r, p * r, |p - r|], dim=1)        (B, 4C)
    h = gelu_tanh(f @ W1.T + b1)                   (B, H)     fusion.dense
    reward = (h @ W2.T + b2)[:, 0]                 (B)        fusion.out
    loss = sum(upstream * reward)                  (so every input gets a distinct gradient)

B = 3, C = 4, H = 5; values drawn from a fixed seed and rounded to float32, computed in float64.

Writes tests/RewardKit.Tests/Models/Fixtures/separate_fusion.json: inputs, rewards and the gradients of loss with
respect to p, r, W1, b1, W2, b2 (row-major flat lists with their shapes).

Run: /usr/bin/python3 tools/separate_fusion_fixtures.py   (Debian's python3-torch 1.13; deterministic on CPU)
"""
import json
import os

import torch
import torch.nn.functional as F

B, C, H = 3, 4, 5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RewardKit.Tests", "Models", "Fixtures", "separate_fusion.json")


def draw(g, *shape, scale=1.0):
    return (torch.randn(*shape, generator=g) * scale).float().double().requires_grad_(True)


def main():
    g = torch.Generator().manual_seed(20261208)
    p, r = draw(g, B, C), draw(g, B, C)
    w1, b1 = draw(g, H, 4 * C, scale=0.5), draw(g, H, scale=0.1)
    w2, b2 = draw(g, 1, H, scale=0.5), draw(g, 1, scale=0.1)
    upstream = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)
    f = torch.cat([p, r, p * r, (p - r).abs()], dim=1)
    h = F.gelu(f @ w1.T + b1, approximate="tanh")
    reward = (h @ w2.T + b2)[:, 0]
    (upstream * reward).sum().backward()

    def t(x):
        return {"shape": list(x.shape), "values": [float(v) for v in x.detach().reshape(-1)]}

    fixture = {
        "inputs": {"p": t(p), "r": t(r), "w1": t(w1), "b1": t(b1), "w2": t(w2), "b2": t(b2), "upstream": t(upstream)},
        "reward": t(reward),
        "grads": {"p": t(p.grad), "r": t(r.grad), "w1": t(w1.grad), "b1": t(b1.grad), "w2": t(w2.grad), "b2": t(b2.grad)},
    }
    with open(OUT, "w") as f_out:
        json.dump(fixture, f_out, indent=1)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
