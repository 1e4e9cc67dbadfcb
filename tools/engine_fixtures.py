"""Reference values for the tensor engine's optimiser tests (PyTorch 1.13): 10 AdamW steps, one decayed and one
non-decayed parameter, gradients g_t = sin(t + i) fixed so the C# test can recompute them."""
import json, math, torch

w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float32, requires_grad=True)
b = torch.tensor([0.1, -0.2], dtype=torch.float32, requires_grad=True)
opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
                        lr=0.05, betas=(0.9, 0.99), eps=1e-8)
for t in range(10):
    w.grad = torch.tensor([math.sin(t + i) for i in range(3)], dtype=torch.float32)
    b.grad = torch.tensor([math.sin(t + 3 + i) for i in range(2)], dtype=torch.float32)
    opt.step()
print(json.dumps({"w": [repr(v) for v in w.tolist()], "b": [repr(v) for v in b.tolist()]}))

# Classic Adam (L2 weight decay added to the gradient), the same parameters, gradients and groups.
w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float32, requires_grad=True)
b = torch.tensor([0.1, -0.2], dtype=torch.float32, requires_grad=True)
opt = torch.optim.Adam([{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
                       lr=0.05, betas=(0.9, 0.99), eps=1e-8)
for t in range(10):
    w.grad = torch.tensor([math.sin(t + i) for i in range(3)], dtype=torch.float32)
    b.grad = torch.tensor([math.sin(t + 3 + i) for i in range(2)], dtype=torch.float32)
    opt.step()
print(json.dumps({"adam_w": [repr(v) for v in w.tolist()], "adam_b": [repr(v) for v in b.tolist()]}))
