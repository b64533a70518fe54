#!/usr/bin/python3
"""Generate scipy oracle fixtures for eval/metrics.

Run with Debian's scipy 1.10:  /usr/bin/python3 gen_fixtures.py [out.json]
Default output: scipy_fixtures.json next to this script. Output is
deterministic (fixed numpy seed), so a rerun must reproduce the committed file.

Logistic initial values (must match logistic.go):
  r = pearson(x, y); s = +1 if r >= 0 or r is nan else -1
  4PL y=(b1-b2)/(1+exp(-(x-b3)/|b4|))+b2:
      b1,b2 = (max y, min y) if s>0 else (min y, max y); b3 = mean x;
      b4 = std(x, ddof=0)/4 (1 if that is 0)
  5PL y=b1*(1/2-1/(1+exp(b2*(x-b3))))+b4*x+b5:
      b1 = s*(max y - min y); b2 = 1/std(x) (1 if std is 0); b3 = mean x;
      b4 = 0; b5 = mean y
A fit is marked reliable only when curve_fit (default tolerances, maxfev
100000) succeeds, a restart from its optimum with tolerances 1e-15 moves
the fitted PLCC and RMSE by < 1e-9 (a well-defined optimum was reached), the
logistic amplitude (4PL |b1-b2|, 5PL |b1|) is < 100x the MOS range (not an
optimum at infinity), and no other start finds a lower SSE: neither the
other documented starts of starts() (tried by the Go fit when the default
one gets stuck) nor, for the 5PL, the nested 4PL solution, nor a start with
one initial value halved or doubled (so there is no competing local optimum
that a different optimiser path could reach).

The PLCC after a fit carries the sign of the fitted curve (as in
logistic.go): it is negated when the fitted values fall as the predictions
rise (negative covariance), so an anti-correlated model never gets a
positive PLCC from a decreasing curve.
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.optimize import curve_fit

warnings.simplefilter("ignore")

MAXFEV = 100000


def l4(x, b1, b2, b3, b4):
    return (b1 - b2) / (1 + np.exp(-(x - b3) / np.abs(b4))) + b2


def l5(x, b1, b2, b3, b4, b5):
    return b1 * (0.5 - 1 / (1 + np.exp(b2 * (x - b3)))) + b4 * x + b5


def sign_r(x, y):
    r = stats.pearsonr(x, y)[0]
    return -1.0 if r < 0 else 1.0


def p0_4(x, y):
    s = sign_r(x, y)
    hi, lo = (y.max(), y.min()) if s > 0 else (y.min(), y.max())
    sd = x.std()
    return [hi, lo, x.mean(), sd / 4 if sd > 0 else 1.0]


def p0_5(x, y):
    sd = x.std()
    return [sign_r(x, y) * (y.max() - y.min()), 1 / sd if sd > 0 else 1.0,
            x.mean(), 0.0, y.mean()]


def starts(model, x, y):
    """Mirror of Starts in logistic.go: default, flipped orientation, and
    both with a wider (4PL: b4 = std) / steeper (5PL: b2 = 4/std) curve."""
    p = p0_4(x, y) if model is l4 else p0_5(x, y)
    flip = list(p)
    if model is l4:
        flip[0], flip[1] = p[1], p[0]
    else:
        flip[0] = -p[0]
    sd = x.std() if x.std() > 0 else 1.0
    out = [p, flip]
    for q in (p, flip):
        w = list(q)
        if model is l4:
            w[3] = sd
        else:
            w[1] = 4 / sd
        out.append(w)
    return out


def signed_plcc(yh, x, y):
    """pearson(fitted, MOS), negated for a decreasing fitted curve."""
    r = stats.pearsonr(yh, y)[0]
    return -r if np.sum((yh - yh.mean()) * (x - x.mean())) < 0 else r


def f(v):
    """JSON has no NaN/Inf: encode them as strings."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def fit(model, x, y, nested=None):
    """nested: the 4PL parameters when fitting the 5PL (which contains
    the 4PL), giving one more start, as in logistic.go."""
    out = {"reliable": False, "plcc": None, "rmse": None, "params": None}
    if np.all(x == x[0]) or np.all(y == y[0]):
        return out
    p0 = starts(model, x, y)[0]
    try:
        p, _ = curve_fit(model, x, y, p0=p0, maxfev=MAXFEV)
    except Exception:
        return out
    yh = model(x, *p)
    plcc = signed_plcc(yh, x, y)
    rmse = np.sqrt(np.mean((yh - y) ** 2))
    out.update(plcc=f(plcc), rmse=f(rmse), params=[f(v) for v in p],
               raw=[float(v) for v in p])
    try:
        p2, _ = curve_fit(model, x, y, p0=p, maxfev=MAXFEV,
                          ftol=1e-15, xtol=1e-15, gtol=1e-15)
        yh2 = model(x, *p2)
        plcc2 = signed_plcc(yh2, x, y)
        rmse2 = np.sqrt(np.mean((yh2 - y) ** 2))
        stable = abs(plcc2 - plcc) < 1e-9 and abs(rmse2 - rmse) < 1e-9
    except Exception:
        return out
    if not stable:
        return out
    # Asymptotes far outside the data: the optimum is effectively at
    # infinity (an exponential limit) and where an optimiser stops depends
    # on its budget.
    amp = abs(p[0] - p[1]) if model is l4 else abs(p[0])
    if amp > 100 * (y.max() - y.min()):
        return out
    # Several local optima: another optimiser may legitimately end elsewhere.
    sse = np.sum((yh - y) ** 2)
    sd = x.std()
    others = starts(model, x, y)[1:]
    if nested is not None:
        q = nested
        others.append([q[0] - q[1], 1 / abs(q[3]), q[2], 0.0, (q[0] + q[1]) / 2])
    for k in range(len(p0)):
        for fac in (0.5, 2.0):
            q = list(p0)
            q[k] = q[k] * fac if q[k] != 0 else (fac - 1) / max(sd, 1e-12)
            others.append(q)
    for q in others:
        try:
            pq, _ = curve_fit(model, x, y, p0=q, maxfev=MAXFEV)
        except Exception:
            continue
        if np.sum((model(x, *pq) - y) ** 2) < sse * (1 - 1e-9):
            return out
    out["reliable"] = True
    return out


def williams_steiger(r12, r13, r23, n):
    """Williams' t (df n-3) and Steiger's (1980) Z1* as in cocor."""
    if n <= 3 or not all(map(math.isfinite, (r12, r13, r23))):
        return None, None
    k = 1 - r12**2 - r13**2 - r23**2 + 2 * r12 * r13 * r23
    rbar = (r12 + r13) / 2
    t = (r12 - r13) * np.sqrt((n - 1) * (1 + r23) /
                              (2 * (n - 1) / (n - 3) * k + rbar**2 * (1 - r23)**3))
    pt = 2 * stats.t.sf(abs(t), n - 3)
    psi = r23 * (1 - 2 * rbar**2) - 0.5 * rbar**2 * (1 - 2 * rbar**2 - r23**2)
    c = psi / (1 - rbar**2) ** 2
    z = (np.arctanh(r12) - np.arctanh(r13)) * np.sqrt(n - 3) / np.sqrt(2 - 2 * c)
    pz = 2 * stats.norm.sf(abs(z))
    return ({"t": f(t), "df": n - 3, "p": f(pt)},
            {"z": f(z), "p": f(pz)})


def corr_case(name, x, y, xb):
    x, y, xb = (np.round(np.asarray(v, float), 6) for v in (x, y, xb))
    n = len(x)
    c = {"name": name, "pred": x.tolist(), "mos": y.tolist(),
         "pred_b": xb.tolist(),
         "srcc": f(stats.spearmanr(x, y)[0]),
         "krcc": f(stats.kendalltau(x, y)[0]),
         "plcc": f(stats.pearsonr(x, y)[0])}
    f4 = fit(l4, x, y)
    f5 = fit(l5, x, y, f4.pop("raw", None))
    f5.pop("raw", None)
    c.update(fit4_reliable=f4["reliable"], plcc_4pl=f4["plcc"],
             rmse_4pl=f4["rmse"], params_4pl=f4["params"],
             fit5_reliable=f5["reliable"], plcc_5pl=f5["plcc"],
             rmse_5pl=f5["rmse"], params_5pl=f5["params"])
    r12, r13, r23 = (stats.pearsonr(x, y)[0], stats.pearsonr(xb, y)[0],
                     stats.pearsonr(x, xb)[0])
    w, s = williams_steiger(r12, r13, r23, n)
    c.update(r12=f(r12), r13=f(r13), r23=f(r23), williams=w, steiger=s)
    return c


def paired_case(name, a, b):
    a, b = (np.round(np.asarray(v, float), 6) for v in (a, b))
    c = {"name": name, "a": a.tolist(), "b": b.tolist()}
    d = a - b
    t = stats.ttest_rel(a, b)
    sd = np.std(d, ddof=1)
    c["ttest"] = {"t": f(t.statistic), "df": len(d) - 1, "p": f(t.pvalue),
                  "cohen_d": f(np.mean(d) / sd) if sd > 0 else f(
                      np.sign(np.mean(d)) * np.inf if np.mean(d) != 0 else np.nan)}
    try:
        w = stats.wilcoxon(a, b)
        nz = d[d != 0]
        exact = len(d) <= 50 and len(nz) == len(d)
        r = stats.rankdata(np.abs(nz))
        rp, rm = r[nz > 0].sum(), r[nz < 0].sum()
        c["wilcoxon"] = {"statistic": f(w.statistic), "p": f(w.pvalue),
                         "method": "exact" if exact else "approx",
                         "r_rb": f((rp - rm) / (rp + rm))}
    except ValueError as e:
        c["wilcoxon"] = None
        c["wilcoxon_error"] = str(e)
    return c


def sig(rng, n, amp=3.0):
    z = rng.normal(size=n)
    return z, 1 + 4 / (1 + np.exp(-amp * z))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "scipy_fixtures.json")
    rng = np.random.default_rng(20240601)
    nz = rng.normal
    C = []
    for n in (30, 80, 150):
        x, y = sig(rng, n)
        C.append(corr_case(f"sigmoid_n{n}", x, y + 0.3 * nz(size=n),
                           x + 0.5 * nz(size=n)))
    x, y = sig(rng, 500)
    C.append(corr_case("large_n500", x, y + 0.4 * nz(size=500),
                       x + 0.8 * nz(size=500)))
    x = rng.uniform(0, 1, 60)
    C.append(corr_case("pred01_mos15", x, 1 + 4 * x**3 + 0.2 * nz(size=60),
                       rng.uniform(0, 1, 60)))
    x = nz(size=50)
    C.append(corr_case("linear_noise", x, 3 + x + 0.5 * nz(size=50),
                       x + nz(size=50)))
    x = nz(size=40)
    C.append(corr_case("anti_correlated", x, 3 - 2 / (1 + np.exp(-2 * x)) +
                       0.2 * nz(size=40), -x + nz(size=40)))
    x = np.round(nz(size=70), 1)
    C.append(corr_case("ties_light", x, np.round(2 / (1 + np.exp(-2 * x)) +
                       0.3 * nz(size=70), 1), x + nz(size=70)))
    x = rng.integers(1, 4, 60).astype(float)
    C.append(corr_case("heavy_ties", x, np.clip(x + rng.integers(-1, 3, 60),
                       1, 5), rng.integers(1, 4, 60)))
    x = rng.integers(0, 2, 40).astype(float)
    C.append(corr_case("binary_pred", x, 2 + x + nz(size=40), nz(size=40)))
    C.append(corr_case("constant_pred", np.full(10, 0.7), nz(size=10),
                       nz(size=10)))
    C.append(corr_case("constant_mos", nz(size=10), np.full(10, 3.0),
                       nz(size=10)))
    C.append(corr_case("n3", [0.1, 0.5, 0.3], [1.0, 4.0, 2.5], [0.2, 0.1, 0.3]))
    C.append(corr_case("n4", [0.1, 0.5, 0.3, 0.9], [1.0, 4.0, 2.5, 3.0],
                       [0.2, 0.1, 0.3, 0.5]))
    x = np.sort(nz(size=25))
    C.append(corr_case("monotone_exp", x, np.exp(x), x + nz(size=25)))
    x = nz(size=60)
    y = 1 + 4 / (1 + np.exp(-2 * x)) + 0.2 * nz(size=60)
    y[[3, 17, 41]] = [5.0, 1.0, 5.0]
    x[[8, 30]] = [6.0, -7.0]
    C.append(corr_case("outliers", x, y, x + nz(size=60)))
    C.append(corr_case("uncorrelated", nz(size=45), nz(size=45),
                       nz(size=45)))
    x = rng.uniform(20, 90, 100)
    C.append(corr_case("large_scale", x, 1 + 4 / (1 + np.exp(-(x - 55) / 8)) +
                       0.25 * nz(size=100), x + 10 * nz(size=100)))
    x = nz(size=35) - 10
    C.append(corr_case("negative_values", x, -5 + 2 / (1 + np.exp(-3 * (x + 10))) +
                       0.1 * nz(size=35), x + nz(size=35)))
    x = nz(size=30)
    C.append(corr_case("quadratic", x, x**2 + 0.1 * nz(size=30),
                       nz(size=30)))
    x = np.repeat(nz(size=10), 3)
    C.append(corr_case("duplicated_pairs", x, np.repeat(nz(size=10), 3) + x,
                       x + nz(size=30)))
    x = nz(size=5)
    C.append(corr_case("n5_small_noise", x, 2 * x + 0.01 * nz(size=5),
                       nz(size=5)))
    x = np.arange(20.0)
    C.append(corr_case("perfect_linear", x, 2 * x + 1, x[::-1]))
    x = nz(size=120)
    C.append(corr_case("convex_exp_n120", x, np.exp(x) + 0.3 * nz(size=120),
                       x + nz(size=120)))
    x = nz(size=80)
    C.append(corr_case("cubic_anti_n80", x, -x**3 + nz(size=80),
                       -x + nz(size=80)))
    x, y = sig(rng, 200, 1.5)
    C.append(corr_case("sigmoid_n200_mild", x, y + 0.3 * nz(size=200),
                       y + 0.3 * nz(size=200)))

    P = []
    base = 0.85 + 0.01 * nz(size=5)
    P.append(paired_case("seeds5", base, base - 0.01 + 0.005 * nz(size=5)))
    P.append(paired_case("seeds3", [0.81, 0.83, 0.82], [0.80, 0.815, 0.826]))
    P.append(paired_case("seeds10", 0.8 + 0.02 * nz(size=10),
                         0.79 + 0.02 * nz(size=10)))
    P.append(paired_case("ties_in_absdiff", [3, 5, 7, 9, 11, 13, 15, 17],
                         [2, 4, 8, 8, 12, 12, 16, 12]))
    P.append(paired_case("zeros_in_diff", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
                         [1, 2.5, 2, 4, 4, 7, 9, 6, 9, 13, 10, 1]))
    P.append(paired_case("n60_approx", nz(size=60), 0.2 + nz(size=60)))
    P.append(paired_case("n50_exact", nz(size=50), 0.3 + nz(size=50)))
    P.append(paired_case("constant_shift", [1, 2, 3, 4], [0.5, 1.5, 2.5, 3.5]))
    P.append(paired_case("all_equal", [1, 2, 3, 4], [1, 2, 3, 4]))
    P.append(paired_case("n2", [0.9, 0.8], [0.7, 0.75]))
    P.append(paired_case("center_of_distribution", [1, 2, 3, 4],
                         [0, 4, 6, 3]))
    P.append(paired_case("exact_half_rank", [1, -1, 2, 3, 4], [0] * 5))
    P.append(paired_case("int_ties_n15", rng.integers(0, 5, 15),
                         rng.integers(0, 5, 15)))
    P.append(paired_case("n70_ties_zeros", rng.integers(0, 6, 70),
                         rng.integers(0, 6, 70)))

    doc = {"generator": "eval/metrics/testdata/gen_fixtures.py",
           "scipy_version": scipy.__version__,
           "numpy_version": np.__version__,
           "corr_cases": C, "paired_cases": P}
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=1, allow_nan=False)
        fh.write("\n")


if __name__ == "__main__":
    main()
