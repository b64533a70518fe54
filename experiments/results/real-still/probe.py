#!/usr/bin/python3
"""Does a joint linear reading of the statistics cost one dataset?

Fixed ridge regressions of the model's statistics token (the 45 statistics
and the 352 MobileNetV2 channel means, "mid+signals" of
../real-ceiling/ceiling.py, whose loaders and fold partitions it reuses) on
KoNViD-1k's train split and CLIVE, by repeated five-fold cross-validation
(10 partitions, seeds 0-9; each partition cuts both sets), fit four ways on
the training folds only:

  separate  one ridge per dataset (ceiling.py's ridge)
  joint     one ridge on both, KoNViD-1k rows weighted to SHARE of the total
            weight and CLIVE rows to the rest (the score task's source
            weights set this share in training: weight 1 and 1 is 0.5)
  hier      one ridge on [z, s z, (1 - s) z] with s = 1 for a CLIVE image and
            0 for a KoNViD-1k clip: shared weights plus each domain's own,
            one penalty, so each domain's weights shrink towards the
            shared ones (what heads.stats_linear_domains with
            stats_linear_init: ridge starts the model at)

Features are z-scored with the weighted training rows, CLIVE MOS mapped to
[1, 5] as training does, lambda by exact weighted leave-one-out. Prints
and writes (--out DIR) probe.json and probe.md: pooled out-of-fold SRCC,
mean +- std over the partitions, per set.

  probe.py --konvid runs/real/baseline-deep/konvid-dev/features.jsonl \\
      --konvid-labels ../shared/realdata/labels/VIDEVAL/features/KONVID_1K_metadata.csv \\
      --konvid-ids ../shared/realdata/splits/konvid1k-train.txt \\
      --clive runs/real/baseline-deep/clive-all/features.jsonl \\
      --clive-data ../shared/realdata/CLIVE/Data --out experiments/results/real-still
"""
import argparse
import json
import os
import sys

import numpy as np
import scipy.io
from scipy import stats

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "real-ceiling"))
import ceiling as C  # noqa: E402

REPEATS = 10


def fit_pooled(XK, yK, XC, yC, mode, share):
    X = np.vstack([XK, XC])
    y = np.concatenate([yK, yC])
    still = np.concatenate([np.zeros(len(yK)), np.ones(len(yC))])
    w = np.where(still == 1, (1 - share) / len(yC), share / len(yK))
    mu = np.average(X, axis=0, weights=w)
    sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=w))
    sd[sd == 0] = 1

    def design(Z, s):
        if mode == "joint":
            return np.hstack([Z, s[:, None]])
        return np.hstack([Z, Z * s[:, None], Z * (1 - s)[:, None], s[:, None]])

    ym, beta = C.ridge_loo(design((X - mu) / sd, still), y, w)
    return lambda Xn, s: ym + design((Xn - mu) / sd, np.full(len(Xn), s)) @ beta


def run(XK, yK, XC, yC, mode, share):
    rk, rc = [], []
    for rep in range(REPEATS):
        pk, pc = np.zeros(len(yK)), np.zeros(len(yC))
        for a, b in zip(C.cv(len(yK), rep), C.cv(len(yC), rep)):
            trk = np.setdiff1d(np.arange(len(yK)), a)
            trc = np.setdiff1d(np.arange(len(yC)), b)
            if mode == "separate":
                pk[a] = C.ridge_fit(XK[trk], yK[trk])(XK[a])
                pc[b] = C.ridge_fit(XC[trc], yC[trc])(XC[b])
            else:
                f = fit_pooled(XK[trk], yK[trk], XC[trc], yC[trc], mode, share)
                pk[a], pc[b] = f(XK[a], 0.0), f(XC[b], 1.0)
        rk.append(stats.spearmanr(pk, yK)[0])
        rc.append(stats.spearmanr(pc, yC)[0])
    return rk, rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for k in ("konvid", "konvid-labels", "konvid-ids", "clive", "clive-data", "out"):
        ap.add_argument("--" + k, required=True)
    a = ap.parse_args()
    kf, mos, kids, cf, cmos = C.load_pool(a)
    cids = sorted(i for i in cf if i in cmos)
    names = sorted(set(kf[kids[0]]) - {"bitrate_bpps", "bitrate_kbps"})
    sel = C.feature_sets(names)["mid+signals"]
    XK = np.array([[kf[i][n] for n in sel] for i in kids])
    yK = np.array([mos[i] for i in kids])
    XC = np.array([[cf[i][n] for n in sel] for i in cids])
    yC = 1 + 4 * np.array([cmos[i] for i in cids]) / 100

    rows = []
    for mode, share in (("separate", None), ("joint", 0.5), ("joint", 0.25), ("joint", 0.1),
                        ("hier", 0.5), ("hier", 0.25), ("hier", 0.1)):
        rk, rc = run(XK, yK, XC, yC, mode, share)
        name = mode if share is None else f"{mode} (KoNViD share {share})"
        r = {"fit": name, "konvid1k": rk, "clive": rc}
        print(f"{name:28s} konvid1k {np.mean(rk):.3f} +- {np.std(rk, ddof=1):.3f}  clive {np.mean(rc):.3f} +- {np.std(rc, ddof=1):.3f}", flush=True)
        rows.append(r)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "probe.json"), "w") as f:
        json.dump({"repeats": REPEATS, "folds": 5, "features": "mid+signals", "n_konvid1k": len(yK),
                   "n_clive": len(yC), "rows": rows}, f, indent=1)
    with open(os.path.join(a.out, "probe.md"), "w") as f:
        f.write(f"Pooled out-of-fold SRCC of fixed ridges on the statistics token's 397 features, mean +- std over "
                f"{REPEATS} five-fold partitions (seeds 0-{REPEATS - 1}); probe.py. KoNViD-1k train split "
                f"({len(yK)} clips), CLIVE ({len(yC)} images).\n\n| fit | KoNViD-1k | CLIVE |\n|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['fit']} | {np.mean(r['konvid1k']):.3f} ± {np.std(r['konvid1k'], ddof=1):.3f} | "
                    f"{np.mean(r['clive']):.3f} ± {np.std(r['clive'], ddof=1):.3f} |\n")


if __name__ == "__main__":
    main()
