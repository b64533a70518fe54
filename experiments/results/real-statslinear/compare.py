#!/usr/bin/python3
"""Paired comparison of two sweep variants that may come from different
sweep reports (same seeds, same holdout): per set, SRCC mean +- std over
seeds for each, a two-sided paired t-test over seeds
(scipy.stats.ttest_rel) and, for cells trained on different machines
whose numerics differ, Welch's unpaired t-test (scipy.stats.ttest_ind,
equal_var=False); per ladder, the pairs-ordered fraction and
SRCC(score, -CRF) per seed from `cpllm eval ladder`'s ladder.json.

  compare.py --a REPORT.json:VARIANT --b REPORT.json:VARIANT \
      [--ladder NAME=A_LADDER.json,B_LADDER.json ...]

--a/--b may also name a sweep's variant directory (runs/EXP/VARIANT), read
from its cells' done.json.

Prints a Markdown table; the first column names what is compared.
"""
import argparse
import glob
import json
import os
import statistics

from scipy import stats


def report_seeds(spec):
    if os.path.isdir(spec):  # a sweep's variant directory: its cells' done.json
        out = {}
        for done in sorted(glob.glob(os.path.join(spec, "seed*", "done.json"))):
            d = json.load(open(done))
            for ev in d["eval"]:
                out.setdefault(ev["name"], {})[d["seed"]] = ev["srcc"]
        if not out:
            raise SystemExit(f"{spec}: no finished cell (seed*/done.json)")
        return out
    path, variant = spec.rsplit(":", 1)
    rep = json.load(open(path))
    out = {}
    for ev in rep["eval"]:
        for v in ev["variants"]:
            if v["name"] == variant:
                out[ev["name"]] = dict(zip(rep["seeds"], v["srcc"]["per_seed"]))
    if not out:
        raise SystemExit(f"{path}: no variant {variant!r}")
    return out


def ladder_seeds(path):
    lad = json.load(open(path))
    pairs, srcc = {}, {}
    for c in lad["checkpoints"]:
        seed = int(c["checkpoint"].rsplit("seed", 1)[1])
        pairs[seed] = c["pair_accuracy"]["value"]
        srcc[seed] = c["srcc"]["value"]
    return pairs, srcc


def row(name, a, b):
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        raise SystemExit(f"{name}: {len(seeds)} common seeds")
    xa, xb = [a[s] for s in seeds], [b[s] for s in seeds]
    p = stats.ttest_rel(xa, xb).pvalue
    welch = stats.ttest_ind(xa, xb, equal_var=False).pvalue
    fmt = lambda x: f"{statistics.mean(x):.3f} ± {statistics.stdev(x):.3f}"
    return f"| {name} | {len(seeds)} | {fmt(xa)} | {fmt(xb)} | {statistics.mean(xa) - statistics.mean(xb):+.3f} | {p:.3g} | {welch:.3g} |"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--ladder", action="append", default=[])
    args = ap.parse_args()
    ra, rb = report_seeds(args.a), report_seeds(args.b)
    print(f"| set | seeds | A: {args.a} | B: {args.b} | A - B | paired t p | Welch t p |")
    print("|---|--:|---|---|--:|--:|--:|")
    for name in ra:
        if name in rb:
            print(row(name + " SRCC", ra[name], rb[name]))
    for spec in args.ladder:
        name, files = spec.split("=", 1)
        fa, fb = files.split(",")
        (pa, sa), (pb, sb) = ladder_seeds(fa), ladder_seeds(fb)
        print(row(name + " pairs ordered", pa, pb))
        print(row(name + " SRCC(score, -CRF)", sa, sb))


if __name__ == "__main__":
    main()
