#!/usr/bin/python3
"""Reference values for RewardKit.Annotation.Agreement from scikit-learn and statsmodels on fixed inputs.
Needs Debian's python3-sklearn and python3-statsmodels (apt-get install -y python3-sklearn python3-statsmodels).
Run: /usr/bin/python3 tools/annotation_agreement_fixtures.py
(writes tests/RewardKit.Tests/Annotation/Fixtures/agreement.json).

Krippendorff's alpha has no implementation in either library, so the fixture carries the worked example of
Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C (4 observers, 12 units, missing
values) with the values printed there: nominal .743, ordinal .815, interval .849, ratio .797."""
import json, os
import numpy as np
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

rng = np.random.default_rng(2024)
out = {"cohen": [], "fleiss": []}

for n, k, agree in [(40, 3, 0.6), (25, 2, 0.8), (60, 5, 0.3)]:
    a = rng.integers(0, k, size=n)
    b = np.where(rng.uniform(size=n) < agree, a, rng.integers(0, k, size=n))
    out["cohen"].append({"a": a.tolist(), "b": b.tolist(), "kappa": float(cohen_kappa_score(a, b))})

for items, raters, k in [(20, 4, 5), (30, 3, 3), (12, 7, 2)]:
    truth = rng.integers(0, k, size=items)
    counts = np.zeros((items, k), dtype=int)
    for i in range(items):
        for _ in range(raters):
            c = truth[i] if rng.uniform() < 0.6 else rng.integers(0, k)
            counts[i, c] += 1
    out["fleiss"].append({"counts": counts.tolist(), "kappa": float(fleiss_kappa(counts, method="fleiss"))})

# Fleiss (1971)-style table from Wikipedia's "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5 categories.
wiki = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                 [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
out["fleiss"].append({"counts": wiki.tolist(), "kappa": float(fleiss_kappa(wiki, method="fleiss")), "note": "Wikipedia worked example, kappa 0.210"})

# Krippendorff (2011) section C; null = the observer gave no value.
out["krippendorff"] = {
    "observers": [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
                  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
                  [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
                  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]],
    "alpha": {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797},
    "source": "Krippendorff (2011), Computing Krippendorff's Alpha-Reliability, section C; values rounded to 3 decimals",
}

path = os.path.join(os.path.dirname(__file__), "..", "tests", "RewardKit.Tests", "Annotation", "Fixtures", "agreement.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path))
