#!/usr/bin/python3
"""Oracle for train's kernelRank: an RBF kernel ridge with a squared-hinge
ranking term, minimised directly by scipy's L-BFGS (no Newton, no active
set), its Gram matrix computed here from the supports.

Reads JSON {"sup": [[...]], "y": [...], "pairs": [[a, b], ...],
"gamma": G, "lambda": L, "weight": W, "margin": M, "jitter": J} on stdin
(the first len(y) supports are the scored rows) and writes
{"f": [...], "objective": V}: the reading K alpha at every support and the
minimum. The objective, over alpha:
  1/n sum_i (y_i - mean(y) - f_i)^2 + L/n alpha' K alpha + J |alpha|^2
  + W/P sum_p max(0, M - f_a + f_b)^2,   f = K alpha
"""
import json
import sys

import numpy as np
from scipy import optimize

d = json.load(sys.stdin)
S, y = np.array(d["sup"]), np.array(d["y"])
pairs = np.array(d["pairs"], dtype=int)
lam, wt, m, jit = d["lambda"], d["weight"], d["margin"], d["jitter"]
n = len(y)
sq = ((S[:, None, :] - S[None, :, :]) ** 2).sum(-1)
K = np.exp(-d["gamma"] * sq)
yc = y - y.mean()
D = K[pairs[:, 0]] - K[pairs[:, 1]]
v = wt / len(pairs)


def obj(a):
    f = K @ a
    r = yc - f[:n]
    h = np.maximum(0.0, m - D @ a)
    val = r @ r / n + lam / n * a @ K @ a + jit * a @ a + v * h @ h
    g = -2 * K[:n].T @ r / n + 2 * lam / n * K @ a + 2 * jit * a - 2 * v * D.T @ h
    return val, g


res = optimize.minimize(obj, np.zeros(len(S)), jac=True, method="L-BFGS-B",
                        options={"maxiter": 200000, "gtol": 1e-14, "ftol": 1e-18})
json.dump({"f": (K @ res.x).tolist(), "objective": float(res.fun)}, sys.stdout)
