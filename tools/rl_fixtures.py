#!/usr/bin/python3
"""PyTorch reference for RewardKit's policy-optimisation math (src/RewardKit/Rl), on the tiny GPT-2 policy of
tools/gpt2_policy_fixtures.py (same seeded, scaled weights) and its fixed rollouts (3 prompt+response rows), float64:

1. GAE as TRL's PPO trainer computes it (value after the last token 0), returns = A + V; TRL's masked_whiten.
2. RLOO leave-one-out advantages; REINFORCE batch-mean; k1 = log p - log p_ref, k3 = (r - 1) - log r, r = p_ref / p.
3. PPO loss at tau = 1 with old log-probs = current minus noise (so ratios differ from 1 and some clip), random
   advantages, a leaf "values" tensor (the critic's output), old values and returns; cliprange 0.2, cliprange_value 0.2,
   vf_coef 0.1, entropy coef 0.01:
       loss = pg_loss + vf_coef * vf_loss - ent_coef * entropy
   every term, approxkl, clipfrac, vf_clipfrac, mean ratio, and the gradients of loss w.r.t. every policy parameter and
   w.r.t. the values.
4. TRPO step direction: g = grad of the surrogate mean(ratio * A) at theta_0 (old = current), F v = grad((grad KL . v))
   + 0.1 v, KL = mean over response tokens of KL(softmax(z_0).detach() || softmax(z)), 10 iterations of conjugate gradient.

Writes to tests/RewardKit.Tests/Rl/Fixtures/:
    rl.json                       inputs and scalar outputs
    rl_policy_grads.safetensors   d loss / d parameter (PPO), HF names
    rl_trpo.safetensors           g and the CG direction, HF names

Run: /usr/bin/python3 tools/rl_fixtures.py   (Debian's python3-torch 1.13; deterministic on CPU)
"""
import json
import os

import torch

import gpt2_parity_fixtures as base
import gpt2_policy_fixtures as pol

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RewardKit.Tests", "Rl", "Fixtures")
CLIP, CLIP_V, VF_COEF, ENT_COEF = 0.2, 0.2, 0.1, 0.01
GAMMA, LAM = 1.0, 0.95
DAMPING, CG_ITERS = 0.1, 10


def policy_weights():
    w = base.init_weights(pol.CONFIG, seed=pol.SEED)
    del w["score.weight"]
    w["transformer.wte.weight"] *= pol.SCALES["wte"]
    w["transformer.wpe.weight"] *= pol.SCALES["wpe"]
    for name in w:
        if ".h." in name and name.endswith(".weight") and ".ln_" not in name:
            w[name] *= pol.SCALES["blocks"]
    return {k: v.to(base.DTYPE).clone().requires_grad_(True) for k, v in w.items()}


def mask_of(lengths, R):
    m = torch.zeros(len(lengths), R, dtype=base.DTYPE)
    for b, n in enumerate(lengths):
        m[b, :n] = 1
    return m


def gae(rewards, values, lengths):
    """TRL: lastgaelam loop backwards; nextvalues = 0 after the last real token."""
    adv = torch.zeros_like(rewards)
    for b, n in enumerate(lengths):
        last = 0.0
        for t in reversed(range(n)):
            nv = values[b, t + 1] if t + 1 < n else 0.0
            delta = rewards[b, t] + GAMMA * nv - values[b, t]
            last = delta + GAMMA * LAM * last
            adv[b, t] = last
    return adv, (adv + values) * mask_of(lengths, rewards.shape[1])


def masked_whiten(x, mask, shift_mean=True):
    mean = (x * mask).sum() / mask.sum()
    var = (((x - mean) ** 2) * mask).sum() / mask.sum()
    var = var * mask.sum() / (mask.sum() - 1)          # TRL's unbiased correction
    out = (x - mean) * torch.rsqrt(var + 1e-8)
    if not shift_mean:
        out += mean
    return out * mask


def logits_rows(w):
    """(N, V) logits at the positions predicting each response token, in row-major order."""
    rows = [p + r for p, r in zip(pol.PROMPTS, pol.RESPONSES)]
    T = max(len(r) for r in rows)
    ids = torch.tensor([r + [0] * (T - len(r)) for r in rows])
    z = pol.logits_at(w, ids, torch.tensor([len(r) for r in rows]))
    out = []
    for b, (p, r) in enumerate(zip(pol.PROMPTS, pol.RESPONSES)):
        for j in range(len(r)):
            out.append(z[b, len(p) + j - 1])
    return torch.stack(out)


def trpo(w, adv, mask, lengths):
    params = list(w.values())
    lp, _ = pol.score(w, 1.0)
    old = lp.detach()
    surrogate = ((lp - old).exp() * adv * mask).sum() / mask.sum()
    g = torch.autograd.grad(surrogate, params)
    g = torch.cat([x.reshape(-1) for x in g])
    z0 = logits_rows(w).detach()
    p0 = torch.softmax(z0, -1)

    def fvp(v):
        z = logits_rows(w)
        kl = (p0 * (torch.log_softmax(z0, -1) - torch.log_softmax(z, -1))).sum(-1).mean()
        grads = torch.autograd.grad(kl, params, create_graph=True)
        flat = torch.cat([x.reshape(-1) for x in grads])
        hv = torch.autograd.grad((flat * v).sum(), params)
        return torch.cat([x.reshape(-1) for x in hv]) + DAMPING * v

    x = torch.zeros_like(g)
    r, p = g.clone(), g.clone()
    rr = r @ r
    for _ in range(CG_ITERS):
        fp = fvp(p)
        alpha = rr / (p @ fp)
        x += alpha * p
        r -= alpha * fp
        rr_new = r @ r
        p = r + rr_new / rr * p
        rr = rr_new
    return g, x


def unflatten(flat, w):
    out, i = {}, 0
    for k, v in w.items():
        out[k] = flat[i:i + v.numel()].reshape(v.shape)
        i += v.numel()
    return out


def main():
    g = torch.Generator().manual_seed(2024)
    lengths = [len(r) for r in pol.RESPONSES]
    R = max(lengths)
    mask = mask_of(lengths, R)
    out = {"generator": "tools/rl_fixtures.py", "torch": torch.__version__, "lengths": lengths, "width": R,
           "gamma": GAMMA, "lam": LAM, "cliprange": CLIP, "cliprange_value": CLIP_V, "vf_coef": VF_COEF,
           "ent_coef": ENT_COEF, "damping": DAMPING, "cg_iterations": CG_ITERS}

    # 1. GAE and whitening on random per-token rewards and values
    rewards = torch.randn(len(lengths), R, generator=g, dtype=base.DTYPE) * mask
    values = torch.randn(len(lengths), R, generator=g, dtype=base.DTYPE) * mask
    adv, ret = gae(rewards, values, lengths)
    out.update(gae_rewards=rewards.tolist(), gae_values=values.tolist(), gae_advantages=adv.tolist(), gae_returns=ret.tolist(),
               whitened=masked_whiten(adv, mask).tolist(), whitened_keep_mean=masked_whiten(adv, mask, False).tolist())

    # 2. RLOO, batch mean, k1/k3
    scores = torch.randn(12, generator=g, dtype=base.DTYPE)
    k = 4
    grouped = scores.reshape(-1, k)
    rloo = grouped - (grouped.sum(1, keepdim=True) - grouped) / (k - 1)
    lp_a = -torch.rand(8, generator=g, dtype=base.DTYPE) * 3
    lp_b = -torch.rand(8, generator=g, dtype=base.DTYPE) * 3
    ratio = (lp_b - lp_a).exp()
    out.update(rloo_scores=scores.tolist(), rloo_k=k, rloo_advantages=rloo.reshape(-1).tolist(),
               batch_mean_advantages=(scores - scores.mean()).tolist(),
               kl_logprobs=lp_a.tolist(), kl_ref_logprobs=lp_b.tolist(),
               k1=(lp_a - lp_b).tolist(), k3=((ratio - 1) - ratio.log()).tolist())

    # 3. PPO loss on the tiny policy's fixed rollouts
    w = policy_weights()
    lp, ent = pol.score(w, 1.0)
    old = (lp.detach() - 0.3 * torch.randn(lp.shape, generator=g, dtype=base.DTYPE)) * mask
    adv_p = torch.randn(lp.shape, generator=g, dtype=base.DTYPE) * mask
    v_leaf = (torch.randn(lp.shape, generator=g, dtype=base.DTYPE) * mask).requires_grad_(True)
    old_v = (v_leaf.detach() + 0.8 * torch.randn(lp.shape, generator=g, dtype=base.DTYPE)) * mask
    returns = torch.randn(lp.shape, generator=g, dtype=base.DTYPE) * mask
    n = mask.sum()
    logratio = (lp - old) * mask
    ratio = logratio.exp()
    pg1 = -adv_p * ratio
    pg2 = -adv_p * ratio.clamp(1 - CLIP, 1 + CLIP)
    pg_loss = (torch.max(pg1, pg2) * mask).sum() / n
    v_clipped = old_v + (v_leaf - old_v).clamp(-CLIP_V, CLIP_V)
    vf1 = (v_leaf - returns) ** 2
    vf2 = (v_clipped - returns) ** 2
    vf_loss = 0.5 * (torch.max(vf1, vf2) * mask).sum() / n
    entropy = (ent * mask).sum() / n
    loss = pg_loss + VF_COEF * vf_loss - ENT_COEF * entropy
    loss.backward()
    out.update(ppo_old_logprobs=old.tolist(), ppo_advantages=adv_p.tolist(), ppo_values=v_leaf.detach().tolist(),
               ppo_old_values=old_v.tolist(), ppo_returns=returns.tolist(), ppo_logprobs=lp.detach().tolist(),
               ppo_loss=float(loss), ppo_policy_loss=float(pg_loss), ppo_value_loss=float(vf_loss), ppo_entropy=float(entropy),
               ppo_approxkl=float(0.5 * ((logratio ** 2) * mask).sum() / n),
               ppo_clipfrac=float(((pg2 > pg1).double() * mask).sum() / n),
               ppo_vf_clipfrac=float(((vf2 > vf1).double() * mask).sum() / n),
               ppo_ratio=float((ratio * mask).sum() / n),
               ppo_values_grad=v_leaf.grad.tolist())
    print(out["ppo_clipfrac"], out["ppo_vf_clipfrac"])
    assert 0 < out["ppo_clipfrac"] < 1 and 0 < out["ppo_vf_clipfrac"] < 1, "want some clipped and some unclipped tokens"
    grads = {k: v.grad.clone() for k, v in w.items()}

    # 4. TRPO direction
    w = policy_weights()
    trpo_adv = torch.randn(lp.shape, generator=g, dtype=base.DTYPE) * mask
    gvec, direction = trpo(w, trpo_adv, mask, lengths)
    out["trpo_advantages"] = trpo_adv.tolist()
    trpo_tensors = {}
    for k, v in unflatten(gvec, w).items():
        trpo_tensors["g." + k] = v
    for k, v in unflatten(direction, w).items():
        trpo_tensors["direction." + k] = v

    os.makedirs(OUT, exist_ok=True)
    base.write_safetensors(os.path.join(OUT, "rl_policy_grads.safetensors"), grads)
    base.write_safetensors(os.path.join(OUT, "rl_trpo.safetensors"), trpo_tensors)
    with open(os.path.join(OUT, "rl.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("ppo loss", float(loss), "clipfrac", out["ppo_clipfrac"], "vf_clipfrac", out["ppo_vf_clipfrac"])
    print("trpo |g|", float(gvec.norm()), "|direction|", float(direction.norm()))


if __name__ == "__main__":
    main()
