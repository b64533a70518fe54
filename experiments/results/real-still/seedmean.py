#!/usr/bin/env python3
"""Mean prediction over seeds of one sweep variant on one test set.

Reads VARIANT_DIR/seed<k>/predictions/SET.csv (id,pred,mos) for each seed,
checks that every seed scored the same items with the same MOS, and writes
id,pred,mos with pred the mean over seeds, rows in the first seed's order.
"""
import argparse
import csv
import sys


def read(path):
    with open(path, newline="") as f:
        return [(r["id"], float(r["pred"]), r["mos"]) for r in csv.DictReader(f)]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--variant", required=True, help="a variant's directory (seed<k>/ under it)")
    ap.add_argument("--set", required=True, help="predictions/SET.csv")
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    runs = [read(f"{a.variant}/seed{s}/predictions/{a.set}.csv") for s in a.seeds]
    first = runs[0]
    for s, r in zip(a.seeds[1:], runs[1:]):
        if [(i, m) for i, _, m in r] != [(i, m) for i, _, m in first]:
            sys.exit(f"seed {s}: {a.set}.csv has other items or MOS than seed {a.seeds[0]}'s")
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "pred", "mos"])
        for j, (i, _, m) in enumerate(first):
            w.writerow([i, sum(r[j][1] for r in runs) / len(runs), m])


if __name__ == "__main__":
    main()
