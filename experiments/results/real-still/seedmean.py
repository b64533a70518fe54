#!/usr/bin/env python3
"""Mean prediction over seeds of one sweep variant on one test set.

Reads VARIANT_DIR/seed<k>/predictions/SET.csv (id,pred,mos) for each seed
and writes id,pred,mos with pred the mean over seeds (../real-framestats/
oof.py's seed_mean: every seed must score the same items with the same MOS).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "real-framestats"))
import oof  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--variant", required=True, help="a variant's directory (seed<k>/ under it)")
    ap.add_argument("--set", required=True, help="predictions/SET.csv")
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    per_seed = [{i: (p, m) for i, p, m in oof.read(f"{a.variant}/seed{s}/predictions/{a.set}.csv")} for s in a.seeds]
    oof.write(a.out, oof.seed_mean(per_seed, a.seeds))


if __name__ == "__main__":
    main()
