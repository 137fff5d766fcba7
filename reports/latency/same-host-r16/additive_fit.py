"""How additive are the measured networks? Fits one cost per (slot, op) plus a constant to the
fit half's measured times (ridge 0.1, no latency table involved) and ranks the held-out half.

python reports/latency/same-host-r16/additive_fit.py reports/latency/same-host/validation.csv \
    reports/latency/same-host-r16/validation.csv
"""
import csv
import sys

import numpy as np


def kendall(a, b):
    i, j = np.triu_indices(len(a), 1)
    s = np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return (np.sum(s > 0) - np.sum(s < 0)) / len(i)


for path in sys.argv[1:]:
    rows = list(csv.DictReader(open(path)))
    ops = [r["arch"].split("-") for r in rows]
    features = sorted({(k, op) for arch in ops for k, op in enumerate(arch) if op != "none"})
    column = {f: i for i, f in enumerate(features)}
    x = np.zeros((len(rows), len(features) + 1))
    x[:, -1] = 1.0
    for n, arch in enumerate(ops):
        for k, op in enumerate(arch):
            if op != "none":
                x[n, column[(k, op)]] = 1.0
    y = np.array([float(r["measured_ms"]) for r in rows])
    fit = np.array([r["split"] == "fit" for r in rows])
    ridge = 0.1 * np.eye(x.shape[1])
    ridge[-1, -1] = 0.0
    w = np.linalg.solve(x[fit].T @ x[fit] + ridge, x[fit].T @ y[fit])
    p = x[~fit] @ w
    rmspe = 100 * np.sqrt(np.mean((p / y[~fit] - 1) ** 2))
    print(f"{path}: {len(features)} (slot, op) costs from {fit.sum()} networks; held out "
          f"{(~fit).sum()}: Kendall τ {kendall(p, y[~fit]):.3f}, RMSPE {rmspe:.1f}%")
