#!/usr/bin/python3
"""Paired comparison of two cross-validated recipes over seeds.

Each recipe is a prefix of oof.py's per-seed out-of-fold CSVs
(PREFIX-SET-seed<k>.csv). Per set: each seed's pooled out-of-fold SRCC for
both, mean +- std over seeds with a 95% t interval, and a two-sided paired
t-test over seeds (scipy.stats.ttest_rel). Prints a Markdown table.

  cv_compare.py --a oof/lp --b ../real-deepstats/oof/mnv2 --seeds 1 2 3 4 5
"""
import argparse
import csv
import statistics

from scipy import stats


def srcc(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return stats.spearmanr([float(r["pred"]) for r in rows], [float(r["mos"]) for r in rows])[0], len(rows)


def summary(xs):
    m, s = statistics.mean(xs), statistics.stdev(xs)
    h = stats.t.ppf(0.975, len(xs) - 1) * s / len(xs) ** 0.5
    return f"{m:.3f} ± {s:.3f} [{m - h:.3f}, {m + h:.3f}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--seeds", nargs="+", type=int, required=True)
    ap.add_argument("--sets", nargs="+", default=["konvid1k", "clive"])
    a = ap.parse_args()
    print(f"| set | n | seeds | {a.a} per seed | {a.b} per seed | {a.a} | {a.b} | paired t p |")
    print("|---|--:|---|---|---|---|---|---|")
    for s in a.sets:
        A, B, n = [], [], 0
        for k in a.seeds:
            ra, n = srcc(f"{a.a}-{s}-seed{k}.csv")
            rb, nb = srcc(f"{a.b}-{s}-seed{k}.csv")
            if nb != n:
                raise SystemExit(f"{s} seed {k}: {n} rows against {nb}")
            A.append(ra)
            B.append(rb)
        p = stats.ttest_rel(A, B).pvalue
        print(f"| {s} | {n} | {' '.join(map(str, a.seeds))} | {' '.join(f'{x:.3f}' for x in A)} | "
              f"{' '.join(f'{x:.3f}' for x in B)} | {summary(A)} | {summary(B)} | {p:.3g} |")


if __name__ == "__main__":
    main()
