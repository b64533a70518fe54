#!/usr/bin/python3
"""SRCC with a percentile bootstrap 95% CI over items (1000 resamples,
numpy seed 1) for each prediction file given (CSV: id, pred, mos).

  ci.py FILE.csv ...   (prints a Markdown table)
"""
import csv
import sys

import numpy as np
from scipy import stats

print("| file | n | SRCC [95% bootstrap CI] |\n|---|--:|---|")
for path in sys.argv[1:]:
    rows = list(csv.DictReader(open(path)))
    p = np.array([float(r["pred"]) for r in rows])
    m = np.array([float(r["mos"]) for r in rows])
    rng = np.random.default_rng(1)
    boot = []
    for _ in range(1000):
        i = rng.integers(0, len(p), len(p))
        boot.append(stats.spearmanr(p[i], m[i])[0])
    lo, hi = np.nanpercentile(boot, [2.5, 97.5])
    print(f"| {path} | {len(p)} | {stats.spearmanr(p, m)[0]:.3f} [{lo:.3f}, {hi:.3f}] |")
