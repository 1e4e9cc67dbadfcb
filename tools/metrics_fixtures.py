#!/usr/bin/python3
"""Reference values for RewardKit.Evaluation metrics from scipy/sklearn on fixed inputs.
Run: /usr/bin/python3 tools/metrics_fixtures.py  (writes tests/RewardKit.Tests/Evaluation/Fixtures/metrics.json)"""
import json, os
import numpy as np
from scipy import stats
from sklearn.metrics import brier_score_loss, log_loss

rng = np.random.default_rng(1234)
x = np.round(rng.normal(size=40), 1)          # rounded so ties occur
y = np.round(x * 0.6 + rng.normal(size=40), 1)
chosen = np.round(rng.normal(0.5, 1, size=35), 1)
rejected = np.round(rng.normal(0, 1, size=30), 1)
p = rng.uniform(0.02, 0.98, size=50)
yb = (rng.uniform(size=50) < p).astype(int)

out = {
    "x": x.tolist(), "y": y.tolist(),
    "pearson": float(stats.pearsonr(x, y)[0]),
    "spearman": float(stats.spearmanr(x, y)[0]),
    "kendall_tau_b": float(stats.kendalltau(x, y)[0]),
    "chosen": chosen.tolist(), "rejected": rejected.tolist(),
}
mw = stats.mannwhitneyu(chosen, rejected, alternative="greater", method="asymptotic", use_continuity=True)
out["mannwhitney_u"] = float(mw.statistic)
out["mannwhitney_p"] = float(mw.pvalue)
out["p"] = p.tolist(); out["outcomes"] = yb.tolist()
out["brier"] = float(brier_score_loss(yb, p))
out["log_loss"] = float(log_loss(yb, p))
b, c = 7, 16
out["mcnemar_b"], out["mcnemar_c"] = b, c
out["mcnemar_exact_p"] = float(min(1.0, 2 * stats.binom.cdf(min(b, c), b + c, 0.5)))
chi2 = (abs(b - c) - 1) ** 2 / (b + c)
out["mcnemar_chi2"] = chi2
out["mcnemar_chi2_p"] = float(stats.chi2.sf(chi2, 1))

path = os.path.join(os.path.dirname(__file__), "..", "tests", "RewardKit.Tests", "Evaluation", "Fixtures", "metrics.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path))
