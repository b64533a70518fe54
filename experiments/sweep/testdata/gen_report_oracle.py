#!/usr/bin/python3
"""Fixture and scipy oracle for the sweep report's statistics.

Run with Debian's scipy 1.10:  /usr/bin/python3 gen_report_oracle.py [DIR]
Writes, under DIR (default: this script's directory):
  report/seeds/test/<variant>/seed<k>.csv   per-seed predictions (id,pred,mos),
                                            rows shuffled per file
  report_oracle.json                        what the report must compute
Deterministic (fixed numpy seed): a rerun reproduces the committed files.

Three variants (baseline "base", "better", "same") x 5 seeds x 40 videos.
Oracle per variant and metric (srcc = scipy.stats.spearmanr, plcc =
scipy.stats.pearsonr): the per-seed values, their mean, sample std and 95%
t interval (scipy.stats.t.ppf(0.975, seeds - 1)), the metric of the
seed-mean predictions; per non-baseline variant and metric: ttest_rel and
wilcoxon on the per-seed values paired by seed, Williams' t and Steiger's Z1*
(cocor's formulas, p from scipy.stats.t / norm) on the seed-mean
predictions, and Holm's adjustment of each test's two p-values.
"""
import json
import math
import os
import sys

import numpy as np
from scipy import stats

SEEDS = [1, 2, 3, 4, 5]
VARIANTS = {"base": 1.0, "better": 0.55, "same": 1.0}  # per-video noise sd
N = 40


def f(v):
    v = float(v)
    return None if math.isnan(v) else v


def williams_steiger(r12, r13, r23, n):
    k = 1 - r12**2 - r13**2 - r23**2 + 2 * r12 * r13 * r23
    rbar = (r12 + r13) / 2
    t = (r12 - r13) * np.sqrt((n - 1) * (1 + r23) /
                              (2 * (n - 1) / (n - 3) * k + rbar**2 * (1 - r23)**3))
    psi = r23 * (1 - 2 * rbar**2) - 0.5 * rbar**2 * (1 - 2 * rbar**2 - r23**2)
    c = psi / (1 - rbar**2) ** 2
    z = (np.arctanh(r12) - np.arctanh(r13)) * np.sqrt(n - 3) / np.sqrt(2 - 2 * c)
    return (t, 2 * stats.t.sf(abs(t), n - 3)), (z, 2 * stats.norm.sf(abs(z)))


def holm(p):
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, run = [0.0] * len(p), 0.0
    for k, i in enumerate(order):
        run = max(run, min(1.0, (len(p) - k) * p[i]))
        out[i] = run
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(20250521)
    mos = np.round(rng.uniform(1, 5, N), 6)
    ids = [f"v{i:03d}" for i in range(N)]
    pred = {}
    for v, sd in VARIANTS.items():
        pred[v] = []
        for s in SEEDS:
            seed_shift = rng.normal(0, 0.2)
            p = np.round(mos + seed_shift + sd * rng.normal(size=N), 6)
            pred[v].append(p)
            d = os.path.join(root, "report", "seeds", "test", v)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"seed{s}.csv"), "w") as fh:
                fh.write("id,pred,mos\n")
                for i in rng.permutation(N):
                    fh.write(f"{ids[i]},{repr(float(p[i]))},{repr(float(mos[i]))}\n")
    fns = {"srcc": lambda x, y: stats.spearmanr(x, y)[0],
           "plcc": lambda x, y: stats.pearsonr(x, y)[0]}
    out = {"seeds": SEEDS, "videos": N, "baseline": "base", "variants": {}}
    for v in VARIANTS:
        out["variants"][v] = {}
        mean_pred = np.mean(pred[v], axis=0)
        for m, fn in fns.items():
            per = [fn(p, mos) for p in pred[v]]
            sd = np.std(per, ddof=1)
            h = stats.t.ppf(0.975, len(per) - 1) * sd / math.sqrt(len(per))
            out["variants"][v][m] = {"per_seed": per, "mean": np.mean(per), "std": sd,
                                     "ci95": [np.mean(per) - h, np.mean(per) + h],
                                     "seed_mean": fn(mean_pred, mos), "tests": {}}
    for m, fn in fns.items():
        fam = {}
        for v in ("better", "same"):
            a = out["variants"][v][m]["per_seed"]
            b = out["variants"]["base"][m]["per_seed"]
            tt = stats.ttest_rel(a, b)
            w = stats.wilcoxon(a, b)
            pa, pb = np.mean(pred[v], axis=0), np.mean(pred["base"], axis=0)
            (wt, wp), (sz, sp) = williams_steiger(fn(pa, mos), fn(pb, mos), fn(pa, pb), N)
            tests = {"t-test": [tt.statistic, tt.pvalue], "wilcoxon": [w.statistic, w.pvalue],
                     "williams": [wt, wp], "steiger": [sz, sp]}
            out["variants"][v][m]["tests"] = {k: {"stat": s, "p": p} for k, (s, p) in tests.items()}
            for k, (_, p) in tests.items():
                fam.setdefault(k, []).append(p)
        for k, ps in fam.items():
            for v, a in zip(("better", "same"), holm(ps)):
                out["variants"][v][m]["tests"][k]["holm"] = a

    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, (float, np.floating)):
            return f(x)
        if isinstance(x, np.integer):
            return int(x)
        return x
    with open(os.path.join(root, "report_oracle.json"), "w") as fh:
        json.dump(clean(out), fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
