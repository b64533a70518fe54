#!/usr/bin/python3
"""Mean of the five per-fold SRCCs, beside the pooled out-of-fold SRCC.

Pooling the five fold models' held-out predictions also asks that the five
models put their scores on one scale; the mean of the per-fold SRCCs asks
only that each ranks its own held-out fold. Per set and recipe (a sweep
directory and a variant prefix whose foldK<suffix>/seed<s>/predictions/
val-SET.csv exist): both figures per seed, mean +- std over seeds, and a
paired t-test over seeds against the first recipe. Prints Markdown.

  perfold.py --recipe kernel-slow=runs/real-kernel-slow: \
             --recipe still=runs/real-still: --seeds 1 2 3 4 5
"""
import argparse
import csv
import os
import statistics

from scipy import stats


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return [float(r["pred"]) for r in rows], [float(r["mos"]) for r in rows]


def figures(root, suffix, seed, name):
    pooled_p, pooled_m, per = [], [], []
    for k in range(5):
        p, m = read(os.path.join(root, f"fold{k}{suffix}", f"seed{seed}", "predictions", f"val-{name}.csv"))
        per.append(stats.spearmanr(p, m)[0])
        pooled_p += p
        pooled_m += m
    return stats.spearmanr(pooled_p, pooled_m)[0], statistics.mean(per)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipe", action="append", required=True, help="NAME=DIR:SUFFIX (e.g. still=runs/real-still:-describe-ladder-heads)")
    ap.add_argument("--seeds", nargs="+", type=int, required=True)
    a = ap.parse_args()
    recipes = []
    for r in a.recipe:
        name, rest = r.split("=", 1)
        root, suffix = rest.rsplit(":", 1)
        recipes.append((name, root, suffix))
    print("| set | recipe | pooled, per seed | pooled | per-fold mean, per seed | per-fold mean | paired p vs first (pooled, per-fold) |")
    print("|---|---|---|---|---|---|---|")
    for name in ("konvid1k", "clive"):
        first = None
        for rname, root, suffix in recipes:
            f = [figures(root, suffix, s, name) for s in a.seeds]
            pooled, per = [x[0] for x in f], [x[1] for x in f]
            p = ""
            if first is None:
                first = (pooled, per)
            else:
                p = f"{stats.ttest_rel(first[0], pooled).pvalue:.3g}, {stats.ttest_rel(first[1], per).pvalue:.3g}"
            ms = lambda xs: f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs):.3f}" if len(xs) > 1 else f"{xs[0]:.3f}"
            print(f"| {name} | {rname} | {' '.join(f'{x:.3f}' for x in pooled)} | {ms(pooled)} | "
                  f"{' '.join(f'{x:.3f}' for x in per)} | {ms(per)} | {p} |")


if __name__ == "__main__":
    main()
