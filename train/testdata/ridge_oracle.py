#!/usr/bin/python3
"""Oracle for train's ridgeLOO: weighted ridge y ~ c + w.x, the penalty
chosen by explicit leave-one-out refits (no hat-matrix shortcut).

Reads JSON {"x": [[...]], "y": [...], "w": [...], "lambdas": [...]} on
stdin and writes {"w": [...], "lambda": L}. For one penalty lam the fit
minimises sum_i w_i/W (y_i - c - b.x_i)^2 + lam/n |b|^2 (W = sum w, n rows),
the intercept free: x and y are centred once at their weighted means over
all rows, as ridgeLOO does. Each left-out row is predicted by a refit on
the other rows; the penalty with the least weighted squared error wins.
"""
import json
import sys

import numpy as np

d = json.load(sys.stdin)
X, y, w = np.array(d["x"]), np.array(d["y"]), np.array(d["w"])
n, f = X.shape
p = w / w.sum()
Xc = X - p @ X
yc = y - p @ y


def fit(rows, lam):
    A = (Xc[rows] * p[rows, None]).T @ Xc[rows] + lam / n * np.eye(f)
    return np.linalg.solve(A, (Xc[rows] * p[rows, None]).T @ yc[rows])


best = None
for lam in d["lambdas"]:
    err = 0.0
    for i in range(n):
        rows = np.arange(n) != i
        b = fit(rows, lam)
        err += p[i] * (yc[i] - Xc[i] @ b) ** 2
    if best is None or err < best[0]:
        best = (err, lam)
lam = best[1]
json.dump({"w": fit(np.ones(n, bool), lam).tolist(), "lambda": lam}, sys.stdout)
