"""What the model's ridge start alone gives on real-still's own folds.

stats_linear_init: ridge fits the shared, still-image and video weights of
heads.stats_linear at once ([z, s z, (1 - s) z], one penalty by weighted
leave-one-out, KoNViD-1k and CLIVE weighted 1:1) on the training folds of
both datasets. This refits that ridge in numpy on the same folds (read from
a finished real-still sweep's held-out predictions) with the features of
cpllm baseline --deep mobilenetv2's caches (the 45 statistics and the 352
MobileNetV2 channel means, 8 native-size frames per clip), and reports the
pooled out-of-fold SRCC and the mean of the per-fold SRCCs, beside the
same ridge plus an RBF kernel ridge of the 45 statistics fit on each
dataset's own training folds (z-scored readings summed).
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
from scipy import stats

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "real-ceiling"))
import ceiling as C  # noqa: E402


def hier(X, y, w, still, cols):
    """The hierarchical ridge on columns cols: a predictor of (X, still)."""
    mu, sd = C.zfit(X[:, cols])
    lay = lambda Xn, s: np.hstack([Z := (Xn[:, cols] - mu) / sd, s[:, None] * Z, (1 - s[:, None]) * Z])
    ym, b = C.ridge_loo(lay(X, still), y, w)
    return lambda Xn, s: ym + lay(Xn, s) @ b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--konvid", required=True)
    ap.add_argument("--konvid-labels", required=True)
    ap.add_argument("--konvid-ids", required=True)
    ap.add_argument("--clive", required=True)
    ap.add_argument("--clive-data", required=True)
    ap.add_argument("--folds", required=True, help="a real-still sweep directory (runs/real-still)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    kf, mos, kids, cf, cmos = C.load_pool(a)
    sets = C.feature_sets(sorted(kf[kids[0]]))
    cols = sets["mid"] + sets["signals"]
    cids = sorted(i for i in cf if i in cmos)
    XK, yK = np.array([[kf[i][n] for n in cols] for i in kids]), np.array([mos[i] for i in kids])
    XC, yC = np.array([[cf[i][n] for n in cols] for i in cids]), 1 + 4 * np.array([cmos[i] for i in cids]) / 100
    ALL, MID, SIG = np.arange(len(cols)), np.arange(len(sets["mid"])), np.arange(len(sets["mid"]), len(cols))

    def fold_ids(name, index):
        out = []
        for k in range(5):
            path = os.path.join(a.folds, f"fold{k}", "seed1", "predictions", f"val-{name}.csv")
            ids = [r["id"] for r in csv.DictReader(open(path))]
            missing = [i for i in ids if i not in index]
            if missing:
                raise SystemExit(f"{path}: {len(missing)} ids without features, e.g. {missing[0]}")
            out.append(np.array([index[i] for i in ids]))
        return out
    fk = fold_ids("konvid1k", {i: n for n, i in enumerate(kids)})
    fc = fold_ids("clive", {i: n for n, i in enumerate(cids)})

    rows = []
    for name, parts in (("ridge start (all 397 features)", ["all"]),
                        ("ridge start + own-dataset kernel ridge of the statistics", ["all", "krr"]),
                        ("ridge of the MobileNetV2 means + own-dataset kernel ridge of the statistics", ["mid", "krr"])):
        pk, pc, rng = np.zeros(len(yK)), np.zeros(len(yC)), np.random.default_rng(1000)
        for k in range(5):
            rk, rc = np.setdiff1d(np.arange(len(yK)), fk[k]), np.setdiff1d(np.arange(len(yC)), fc[k])
            X = np.vstack([XK[rk], XC[rc]])
            y = np.concatenate([yK[rk], yC[rc]])
            w = np.concatenate([np.full(len(rk), 1 / len(rk)), np.full(len(rc), 1 / len(rc))])
            s = np.concatenate([np.zeros(len(rk)), np.ones(len(rc))])
            fits = {p: hier(X, y, w, s, ALL if p == "all" else MID) for p in parts if p != "krr"}
            for Xd, yd, te, tr, still, P in ((XK, yK, fk[k], rk, 0.0, pk), (XC, yC, fc[k], rc, 1.0, pc)):
                Xe = np.vstack([Xd[te], Xd[tr]])
                se = np.full(len(Xe), still)
                ps = [f(Xe, se) for f in fits.values()]
                if "krr" in parts:
                    ps.append(C.krr_fit(Xd[tr][:, SIG], yd[tr], rng)(Xe[:, SIG]))
                n = len(te)
                P[te] = ps[0][:n] if len(ps) == 1 else sum((p[:n] - p[n:].mean()) / p[n:].std() for p in ps)
        r = {"fit": name}
        for key, P, y, folds in (("konvid1k", pk, yK, fk), ("clive", pc, yC, fc)):
            r[key] = {"pooled": float(stats.spearmanr(P, y)[0]),
                      "per_fold": [float(stats.spearmanr(P[f], y[f])[0]) for f in folds]}
            r[key]["per_fold_mean"] = float(np.mean(r[key]["per_fold"]))
        rows.append(r)
        print(f"{name:78s} KoNViD {r['konvid1k']['pooled']:.3f} ({r['konvid1k']['per_fold_mean']:.3f})  "
              f"CLIVE {r['clive']['pooled']:.3f} ({r['clive']['per_fold_mean']:.3f})", flush=True)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "ridge.json"), "w") as f:
        json.dump({"folds": a.folds, "rows": rows}, f, indent=1)
    with open(os.path.join(a.out, "ridge.md"), "w") as f:
        f.write("Fixed fits on real-still's five folds (ridge.py): pooled out-of-fold SRCC (mean of the five "
                "per-fold SRCCs).\n\n| fit | KoNViD-1k train split | CLIVE |\n|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['fit']} | {r['konvid1k']['pooled']:.3f} ({r['konvid1k']['per_fold_mean']:.3f}) | "
                    f"{r['clive']['pooled']:.3f} ({r['clive']['per_fold_mean']:.3f}) |\n")


if __name__ == "__main__":
    main()
