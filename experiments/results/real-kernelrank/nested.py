#!/usr/bin/python3
"""How much did choosing stats_kernel_ladder on the CV folds add?

select.sh chose the weight by the pooled five-fold KoNViD-1k SRCC of seed
1's starts, among the weights whose fold-0 start orders >= 0.95 of the
validation ladder. Here each fold's held-out clips are scored by the
weight that rule picks from the other four folds' held-out predictions
alone (pooled SRCC over those 4/5 of the clips), so no fold's own clips
choose the weight that scores them; the pooled SRCC of those predictions
is the figure with the choice made inside the cross-validation. (The
other folds' models were trained on the scored fold's clips, so this is
not a fully nested estimate; the ladder rule uses fold 0's ladder for
every fold.)

  nested.py --select runs/select-kernelrank --grid 0.3:0 0.3:0.3 ... --out nested.md
"""
import argparse
import csv
import json
import os

from scipy import stats


def preds(path):
    with open(path) as f:
        return {r["id"]: (float(r["pred"]), float(r["mos"])) for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--select", required=True)
    ap.add_argument("--grid", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    eligible, folds = [], {}
    for g in a.grid:
        lin, ker = g.split(":")
        n = f"k{ker}" if lin == "0.3" else f"kl{lin}-{ker}"
        lad = json.load(open(os.path.join(a.select, f"ladder-{n}", "ladder.json")))["checkpoints"][0]
        if lad["pair_accuracy"]["value"] < 0.95:
            continue
        eligible.append(g)
        folds[g] = [preds(os.path.join(a.select, n, f"fold{k}", "seed1", "predictions", "val-konvid1k.csv")) for k in range(5)]
    pooled = lambda g, ks: stats.spearmanr(*zip(*[v for k in ks for v in folds[g][k].values()]))[0]
    out = ["| held-out fold | weight chosen on the other folds | their pooled SRCC |", "|--:|---|---|"]
    final = []
    for k in range(5):
        others = [j for j in range(5) if j != k]
        best = max(eligible, key=lambda g: pooled(g, others))
        out.append(f"| {k} | {best} | {pooled(best, others):.3f} |")
        final += list(folds[best][k].values())
    rho = stats.spearmanr(*zip(*final))[0]
    out.append("")
    out.append(f"Eligible (fold-0 validation ladder >= 0.95): {', '.join(eligible)}. "
               f"Pooled KoNViD-1k SRCC with each fold scored by the weight the other folds chose: **{rho:.3f}** "
               f"(n = {len(final)}; the weight chosen on all folds: {max(pooled(g, range(5)) for g in eligible):.3f}).")
    open(a.out, "w").write("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
