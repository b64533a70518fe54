#!/usr/bin/python3
"""Fold SRCCs of a cross-validation sweep at the selected and the last step.

A stage-1 cell keeps the checkpoint with the best validation SRCC of its 6
validations, and in cross-validation the validation set is the held-out
fold itself: the out-of-fold figures are then chosen on the data they
report. This reads each cell's metrics.jsonl and, per seed, averages over
the 5 folds the per-source SRCC at the selected (best) step and at the
last step (600, chosen by nothing), so the size of that selection effect
can be read and recipes compared without it. Paired over the seeds both
recipes have (scipy.stats.ttest_rel) when --b is given.

  laststep.py --a runs/real-lpft/lp runs/real-cv-lpft/fold1 ... (fold 0 first) \
      --b runs/real-cv-deep/fold0 runs/real-cv-deep/fold1 ... --seeds 1 2 3 4 5
"""
import argparse
import json
import os
import statistics

from scipy import stats

SOURCES = ["konvid1k", "clive"]


def fold_srccs(cell):
    """Per-source SRCC at the best and at the last validation of a cell, or
    None. Reads the cell's metrics.jsonl or, in committed results, its
    evals.jsonl (the metrics lines that carry a validation)."""
    path = os.path.join(cell, "metrics.jsonl")
    if not os.path.exists(path):
        path = os.path.join(cell, "evals.jsonl")
    if not os.path.exists(path):
        return None
    evals = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}: {e}")
            if "eval" in r:
                evals.append(r)
    if not evals:
        return None
    best = max(evals, key=lambda r: r["eval"]["srcc"])  # the trainer's choice: pooled validation SRCC
    last = evals[-1]
    return {s: (best["eval"]["sources"][s]["srcc"], last["eval"]["sources"][s]["srcc"]) for s in SOURCES}


def recipe(folds, seeds):
    """seed -> source -> (mean best, mean last) over the folds; seeds missing a fold are left out."""
    out = {}
    for k in seeds:
        cells = [fold_srccs(os.path.join(d, f"seed{k}")) for d in folds]
        if any(c is None for c in cells):
            continue
        out[k] = {s: (statistics.mean(c[s][0] for c in cells), statistics.mean(c[s][1] for c in cells)) for s in SOURCES}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", nargs=5, required=True, metavar="FOLD_DIR")
    ap.add_argument("--b", nargs=5, metavar="FOLD_DIR")
    ap.add_argument("--seeds", nargs="+", type=int, required=True)
    a = ap.parse_args()
    A = recipe(a.a, a.seeds)
    B = recipe(a.b, a.seeds) if a.b else {}
    print("| recipe | source | seeds | mean fold SRCC at the selected step | at the last step | selected - last |")
    print("|---|---|---|---|---|---|")
    for name, R in (("a", A), ("b", B)):
        for s in SOURCES:
            if not R:
                continue
            bs = [R[k][s][0] for k in R]
            ls = [R[k][s][1] for k in R]
            sd = lambda x: statistics.stdev(x) if len(x) > 1 else float("nan")
            print(f"| {name} | {s} | {' '.join(map(str, R))} | {statistics.mean(bs):.3f} ± {sd(bs):.3f} | "
                  f"{statistics.mean(ls):.3f} ± {sd(ls):.3f} | {statistics.mean(b - l for b, l in zip(bs, ls)):+.3f} |")
    common = sorted(set(A) & set(B))
    if len(common) >= 2:
        print(f"\nPaired over seeds {' '.join(map(str, common))} (a - b, two-sided paired t):\n")
        for s in SOURCES:
            for i, what in ((0, "selected"), (1, "last")):
                x, y = [A[k][s][i] for k in common], [B[k][s][i] for k in common]
                print(f"- {s}, {what} step: {statistics.mean(x) - statistics.mean(y):+.3f} (p = {stats.ttest_rel(x, y).pvalue:.3g})")


if __name__ == "__main__":
    main()
