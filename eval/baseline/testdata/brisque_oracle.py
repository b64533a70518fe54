#!/usr/bin/python3
"""Independent oracle for eval/baseline, written from the published methods,
not from the Go code.

BRISQUE: A. Mittal, A. K. Moorthy, A. C. Bovik, "No-Reference Image Quality
Assessment in the Spatial Domain", IEEE TIP 21(12), 2012. Section III:
  MSCN  I^(i,j) = (I(i,j) - mu(i,j)) / (sigma(i,j) + C), C = 1,
        mu = sum_kl w_kl I_kl, sigma = sqrt(sum_kl w_kl (I_kl - mu)^2),
        w a 2-D circularly symmetric Gaussian, K = L = 3 (7x7), here sigma 7/6.
  GGD of the MSCN map (shape, variance); AGGD (shape, mean, left and right
  variance; moment matching of Lasmar et al. 2009) of the products of
  horizontal, vertical, main- and anti-diagonal neighbours; the same 18
  features again at half resolution.
Conventions the paper leaves open (documented in eval/baseline/nss.go):
zero padding, valid neighbour pairs only, half scale by 2x2 averaging,
shape lookup over 0.2:0.001:10, |I - mu| < 1e-8 (rounding in a flat
window) taken as 0. Plus two sharpness statistics: the variance
of the native MSCN map and log(variance of the 4-neighbour Laplacian over
interior pixels).

Usage:
  brisque_oracle.py features GREY.f64 W H    grey image, float64 LE, row-major
  brisque_oracle.py rgbframes RGB.raw W H N  N packed rgb24 frames: BT.601
                                             luma, features averaged
  brisque_oracle.py ridge IN.json            ridge regression (see ridge())
Prints JSON on stdout.
"""
import json
import sys

import numpy as np
from scipy import special

SHAPES = np.arange(9801) * 0.001 + 0.2


def gaussian_window():
    ax = np.arange(-3, 4, dtype=np.float64)
    yy, xx = np.meshgrid(ax, ax, indexing="ij")
    w = np.exp(-(xx ** 2 + yy ** 2) / (2 * (7.0 / 6.0) ** 2))
    return w / w.sum()


def mscn(img):
    """Literal window sums over a zero-padded image (49 shifted copies)."""
    h, w = img.shape
    win = gaussian_window()
    pad = np.zeros((h + 6, w + 6))
    pad[3:-3, 3:-3] = img
    shifted = [(win[k, l], pad[k:k + h, l:l + w]) for k in range(7) for l in range(7)]
    mu = np.zeros_like(img)
    for wt, s in shifted:
        mu += wt * s
    var = np.zeros_like(img)
    for wt, s in shifted:
        var += wt * (s - mu) ** 2
    d = img - mu
    d[np.abs(d) < 1e-8] = 0.0  # flat window: 0 but for rounding (see nss.go)
    return d / (np.sqrt(var) + 1.0)


def ggd(x):
    # E[x^2] / E[|x|]^2 = Gamma(1/a) Gamma(3/a) / Gamma(2/a)^2
    rho = special.gamma(1 / SHAPES) * special.gamma(3 / SHAPES) / special.gamma(2 / SHAPES) ** 2
    var = np.mean(x ** 2)
    r = var / np.mean(np.abs(x)) ** 2
    return [SHAPES[np.argmin(np.abs(rho - r))], var]


def aggd(x):
    rho = special.gamma(2 / SHAPES) ** 2 / (special.gamma(1 / SHAPES) * special.gamma(3 / SHAPES))
    left, right = x[x < 0], x[x > 0]
    sl = np.sqrt(np.mean(left ** 2)) if left.size else 0.0
    sr = np.sqrt(np.mean(right ** 2))
    g = sl / sr
    rhat = np.mean(np.abs(x)) ** 2 / np.mean(x ** 2)
    R = rhat * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
    a = SHAPES[np.argmin(np.abs(rho - R))]
    bl = sl * np.sqrt(special.gamma(1 / a) / special.gamma(3 / a))
    br = sr * np.sqrt(special.gamma(1 / a) / special.gamma(3 / a))
    eta = (br - bl) * special.gamma(2 / a) / special.gamma(1 / a)
    return [a, eta, sl ** 2, sr ** 2]


def scale_features(m):
    f = ggd(m.ravel())
    prods = [
        m[:, :-1] * m[:, 1:],  # horizontal: I(i,j) I(i,j+1)
        m[:-1, :] * m[1:, :],  # vertical: I(i,j) I(i+1,j)
        m[:-1, :-1] * m[1:, 1:],  # main diagonal: I(i,j) I(i+1,j+1)
        m[:-1, 1:] * m[1:, :-1],  # anti-diagonal: I(i,j) I(i+1,j-1)
    ]
    for p in prods:
        f += aggd(p.ravel())
    return f


def features(img):
    img = img.astype(np.float64)
    h, w = img.shape
    m1 = mscn(img)
    half = img[: h // 2 * 2, : w // 2 * 2]
    half = (half[0::2, 0::2] + half[0::2, 1::2] + half[1::2, 0::2] + half[1::2, 1::2]) / 4
    f = scale_features(m1) + scale_features(mscn(half))
    lap = img[:-2, 1:-1] + img[2:, 1:-1] + img[1:-1, :-2] + img[1:-1, 2:] - 4 * img[1:-1, 1:-1]
    f += [np.var(m1), np.log(np.var(lap))]
    return [float(v) for v in f]


def ridge(spec):
    """Ridge with an unpenalised intercept on features z-scored with the
    training mean and population std; lambda by leave-one-out MSE, each
    left-out fit solved explicitly (no hat-matrix shortcut)."""
    X = np.array(spec["x_train"], dtype=np.float64)
    y = np.array(spec["y_train"], dtype=np.float64)
    Xt = np.array(spec["x_test"], dtype=np.float64)
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[std == 0] = np.inf  # a constant feature contributes nothing
    Z, Zt = (X - mean) / std, (Xt - mean) / std
    n, p = Z.shape
    A = np.hstack([np.ones((n, 1)), Z])

    def fit(A, y, lam):
        P = lam * np.eye(p + 1)
        P[0, 0] = 0
        return np.linalg.solve(A.T @ A + P, A.T @ y)

    mses = []
    for lam in spec["grid"]:
        err = []
        for i in range(n):
            keep = np.arange(n) != i
            b = fit(A[keep], y[keep], lam)
            err.append(y[i] - A[i] @ b)
        mses.append(float(np.mean(np.square(err))))
    best = int(np.argmin(mses))
    lam = spec["grid"][best]
    b = fit(A, y, lam)
    pred = np.hstack([np.ones((len(Zt), 1)), Zt]) @ b
    return {"loo_mse": mses, "lambda": lam, "pred": pred.tolist()}


def krr(spec):
    """RBF kernel ridge with an unpenalised intercept, written as the dual
    problem min |y - b - K a|^2 + lam a'K a: [[K + lam I, 1], [1', 0]]
    [a; b] = [y; 0] (no kernel centring, no eigendecomposition), on
    features z-scored with the training mean and population std; gamma
    (scales / p) and lambda by leave-one-out MSE, each left-out fit solved
    explicitly."""
    X = np.array(spec["x_train"], dtype=np.float64)
    y = np.array(spec["y_train"], dtype=np.float64)
    Xt = np.array(spec["x_test"], dtype=np.float64)
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[std == 0] = np.inf
    Z, Zt = (X - mean) / std, (Xt - mean) / std
    n, p = Z.shape

    def kern(A, B, g):
        d = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
        return np.exp(-g * d)

    def fit(Zs, ys, g, lam):
        m = len(ys)
        M = np.zeros((m + 1, m + 1))
        M[:m, :m] = kern(Zs, Zs, g) + lam * np.eye(m)
        M[:m, m] = 1
        M[m, :m] = 1
        sol = np.linalg.solve(M, np.append(ys, 0.0))
        return lambda Q: kern(Q, Zs, g) @ sol[:m] + sol[m]

    best = None
    for s in spec["gamma_scales"]:
        g = s / p
        for lam in spec["grid"]:
            err = []
            for i in range(n):
                keep = np.arange(n) != i
                err.append(y[i] - fit(Z[keep], y[keep], g, lam)(Z[i:i + 1])[0])
            mse = float(np.mean(np.square(err)))
            if best is None or mse < best[0]:
                best = (mse, g, lam)
    mse, g, lam = best
    pred = fit(Z, y, g, lam)(Zt)
    return {"loo_mse": mse, "gamma": g, "lambda": lam, "pred": pred.tolist()}


def main():
    cmd = sys.argv[1]
    if cmd == "features":
        w, h = int(sys.argv[3]), int(sys.argv[4])
        img = np.fromfile(sys.argv[2], dtype="<f8").reshape(h, w)
        out = features(img)
    elif cmd == "rgbframes":
        w, h, n = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        rgb = np.fromfile(sys.argv[2], dtype=np.uint8).reshape(n, h, w, 3).astype(np.float64)
        grey = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
        out = np.mean([features(g) for g in grey], axis=0).tolist()
    elif cmd == "ridge":
        with open(sys.argv[2]) as f:
            out = ridge(json.load(f))
    elif cmd == "krr":
        with open(sys.argv[2]) as f:
            out = krr(json.load(f))
    else:
        sys.exit("unknown command " + cmd)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
