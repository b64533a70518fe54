#!/usr/bin/python3
"""Oracle for train's fitKernelRidge: RBF kernel ridge with its width and
penalty chosen by k-fold cross-validation, written from the textbook
formulas with numpy's dense solver.

Reads JSON {"x": [[...]], "y": [...], "fold": [...], "gammas": [...],
"lambdas": [...]} on stdin (gammas already divided by the dimension) and
writes {"alpha": [...], "gamma": G, "lambda": L}. For a width g and
penalty lam, each fold is predicted by mean(y_tr) + K(te, tr) a with
a = (K(tr, tr) + lam I)^-1 (y_tr - mean(y_tr)); the pair with the least
summed squared error wins (the first in grid order on ties), then the
coefficients are refit on every row.
"""
import json
import sys

import numpy as np

d = json.load(sys.stdin)
X, y, fold = np.array(d["x"]), np.array(d["y"]), np.array(d["fold"])


def gram(A, B, g):
    return np.exp(-g * ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1))


def fit(rows, g, lam):
    ym = y[rows].mean()
    a = np.linalg.solve(gram(X[rows], X[rows], g) + lam * np.eye(rows.sum()), y[rows] - ym)
    return a, ym


best = None
for g in d["gammas"]:
    for lam in d["lambdas"]:
        sse = 0.0
        for f in sorted(set(fold.tolist())):
            tr, te = fold != f, fold == f
            a, ym = fit(tr, g, lam)
            sse += ((ym + gram(X[te], X[tr], g) @ a - y[te]) ** 2).sum()
        if best is None or sse < best[0]:
            best = (sse, g, lam)
_, g, lam = best
a, _ = fit(np.ones(len(y), bool), g, lam)
json.dump({"alpha": a.tolist(), "gamma": g, "lambda": lam}, sys.stdout)
