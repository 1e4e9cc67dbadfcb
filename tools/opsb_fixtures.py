"""PyTorch 1.13 (float64) reference values for the fused ops of RewardKit.Tensors: causal self-attention with a key-padding
mask (GPT-2 c_attn layout), LayerNorm and CrossEntropy with an ignore index. Each case has inputs, outputs, an upstream
gradient dy and the input gradients of sum(dy * y). Writes tests/RewardKit.Tensors.Tests/Fixtures/opsb_torch.json."""
import json, math, os, torch

torch.manual_seed(1234)
d = torch.float64
out = {}

# Attention: B=2, T=5, C=8, NH=2. Batch 1 pads key 0 (query 0 sees nothing -> 0) and key 3.
B, T, C, NH = 2, 5, 8, 2
hs = C // NH
qkv = torch.randn(B, T, 3 * C, dtype=d, requires_grad=True)
mask = torch.tensor([[1, 1, 1, 1, 1], [0, 1, 1, 0, 1]], dtype=d)
q, k, v = qkv.split(C, dim=2)
q = q.view(B, T, NH, hs).transpose(1, 2)
k = k.view(B, T, NH, hs).transpose(1, 2)
v = v.view(B, T, NH, hs).transpose(1, 2)
scores = q @ k.transpose(-2, -1) / math.sqrt(hs)
visible = torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T) & (mask.view(B, 1, 1, T) != 0)
scores = scores.masked_fill(~visible, float("-inf"))
att = torch.softmax(scores, dim=-1)
att = torch.nan_to_num(att, nan=0.0)  # a query with no visible key: all -inf -> NaN -> 0
y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
dy = torch.randn_like(y)
(y * dy).sum().backward()
out["attention"] = {"B": B, "T": T, "C": C, "heads": NH, "qkv": qkv.detach().flatten().tolist(), "mask": mask.flatten().tolist(),
                    "y": y.detach().flatten().tolist(), "dy": dy.flatten().tolist(), "dqkv": qkv.grad.flatten().tolist()}

# LayerNorm over the last axis of (3, 4, 6).
x = torch.randn(3, 4, 6, dtype=d, requires_grad=True)
w = torch.randn(6, dtype=d, requires_grad=True)
b = torch.randn(6, dtype=d, requires_grad=True)
y = torch.nn.functional.layer_norm(x, (6,), w, b, eps=1e-5)
dy = torch.randn_like(y)
(y * dy).sum().backward()
out["layernorm"] = {"shape": [3, 4, 6], "x": x.detach().flatten().tolist(), "w": w.detach().tolist(), "b": b.detach().tolist(),
                    "y": y.detach().flatten().tolist(), "dy": dy.flatten().tolist(),
                    "dx": x.grad.flatten().tolist(), "dw": w.grad.tolist(), "db": b.grad.tolist()}

# CrossEntropy: (5, 7) logits, one ignored target.
logits = (3 * torch.randn(5, 7, dtype=d)).requires_grad_()
targets = torch.tensor([2, -100, 6, 0, 3])
loss = torch.nn.functional.cross_entropy(logits, targets, ignore_index=-100)
loss.backward()
out["cross_entropy"] = {"shape": [5, 7], "logits": logits.detach().flatten().tolist(), "targets": targets.tolist(),
                        "loss": loss.item(), "dlogits": logits.grad.flatten().tolist()}

path = os.path.join(os.path.dirname(__file__), "..", "tests", "RewardKit.Tensors.Tests", "Fixtures", "opsb_torch.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path))
