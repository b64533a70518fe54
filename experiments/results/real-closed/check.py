#!/usr/bin/python3
"""Do the trained cells of real-closed score as their starts?

With heads.level_gate at 0 and the heads frozen, training cannot move the
score. For every finished trained cell (runs/real-closed/VARIANT/seedS,
both stages) this compares its held-out predictions
(predictions/{val-konvid1k,val-clive,dev-konvid1k}.csv) with those of the
start of the same fold and seed (runs/start-closed/foldK/seedS, start.sh)
item by item and prints the largest absolute difference. Exits 1 when a
cell differs by more than 1e-6 or lacks a start.

  check.py --trained runs/real-closed --start runs/start-closed
"""
import argparse
import csv
import glob
import os
import re
import sys


def preds(path):
    with open(path) as f:
        return {r["id"]: float(r["pred"]) for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trained", required=True)
    ap.add_argument("--start", required=True)
    a = ap.parse_args()
    print("| trained cell | start | items | largest abs difference |\n|---|---|---|---|")
    bad = 0
    for cell in sorted(glob.glob(os.path.join(a.trained, "*", "seed*", "done.json"))):
        d = os.path.dirname(cell)
        variant, seed = os.path.basename(os.path.dirname(d)), os.path.basename(d)
        fold = re.match(r"fold\d", variant).group(0)
        start = os.path.join(a.start, fold, seed)
        n, worst = 0, 0.0
        for s in ("val-konvid1k", "val-clive", "dev-konvid1k"):
            p, q = os.path.join(d, "predictions", s + ".csv"), os.path.join(start, "predictions", s + ".csv")
            if not os.path.exists(q):
                print(f"| {variant}/{seed} | missing {q} | | |")
                bad += 1
                continue
            x, y = preds(p), preds(q)
            if x.keys() != y.keys():
                print(f"| {variant}/{seed} | {s}: other items | | |")
                bad += 1
                continue
            n += len(x)
            worst = max([worst] + [abs(x[i] - y[i]) for i in x])
        if worst > 1e-6:
            bad += 1
        print(f"| {variant}/{seed} | {fold}/{seed} | {n} | {worst:.3g} |")
    print(f"\n{'all equal' if bad == 0 else f'{bad} cells differ or lack a start'} (tolerance 1e-6)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
