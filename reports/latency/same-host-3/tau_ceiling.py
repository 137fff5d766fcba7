"""Kendall τ a perfect predictor would show against noisy measurements.

python reports/latency/same-host-3/tau_ceiling.py reports/latency/same-host/validation.csv ...

For each validation.csv: the held-out networks' measured times are taken as the truth; a
perfect predictor and the measurement each carry independent noise of sigma = half the median
between-round spread (the spread compares two half-measurements); τ between the two, averaged
over 200 draws of a fixed seed, is the ceiling that noise puts on a predictor's τ.
"""
import csv
import sys

import numpy as np


def kendall(a, b):
    i, j = np.triu_indices(len(a), 1)
    s = np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return (np.sum(s > 0) - np.sum(s < 0)) / len(i)


rng = np.random.default_rng(0)
for path in sys.argv[1:]:
    rows = [r for r in csv.DictReader(open(path)) if r["split"] == "holdout"]
    measured = np.array([float(r["measured_ms"]) for r in rows])
    spread = np.median([float(r["repeat_spread_pct"]) for r in rows]) / 100
    sigma = spread / 2
    noisy = lambda: measured * (1 + rng.normal(0, sigma, len(measured)))
    ceiling = np.mean([kendall(noisy(), noisy()) for _ in range(200)])
    print(f"{path}: {len(rows)} held out, noise {100 * sigma:.2f}% per measurement, "
          f"τ ceiling {ceiling:.3f}")
