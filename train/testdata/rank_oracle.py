#!/usr/bin/python3
"""Oracle for train's ridgeRank: the weighted ridge with a squared-hinge
ranking term, minimised directly by scipy's L-BFGS (no Newton, no active
set).

Reads JSON {"x": [[...]], "y": [...], "w": [...], "lambda": L,
"d": [[...]], "m": [...], "alpha": A} on stdin and writes {"w": [...]}.
The objective, over b and the intercept c:
  sum_i w_i/W (y_i - c - b.x_i)^2 + alpha/P sum_p max(0, m_p - b.d_p)^2
  + L/n |b|^2
(W = sum w, n rows of x, P rows of d); the intercept is minimised jointly
here rather than removed by centring.
"""
import json
import sys

import numpy as np
from scipy import optimize

d = json.load(sys.stdin)
X, y, w = np.array(d["x"]), np.array(d["y"]), np.array(d["w"])
D, m = np.array(d["d"]), np.array(d["m"])
lam, alpha = d["lambda"], d["alpha"]
n, f = X.shape
p = w / w.sum()
v = alpha / len(m)


def obj(theta):
    c, b = theta[0], theta[1:]
    r = y - c - X @ b
    h = np.maximum(0.0, m - D @ b)
    val = p @ (r * r) + v * (h @ h) + lam / n * (b @ b)
    gc = -2 * p @ r
    gb = -2 * X.T @ (p * r) - 2 * v * D.T @ h + 2 * lam / n * b
    return val, np.concatenate([[gc], gb])


res = optimize.minimize(obj, np.zeros(f + 1), jac=True, method="L-BFGS-B",
                        options={"maxiter": 100000, "gtol": 1e-13, "ftol": 1e-16})
json.dump({"w": res.x[1:].tolist()}, sys.stdout)
