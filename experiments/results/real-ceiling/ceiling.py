#!/usr/bin/python3
"""How far can a regression on cpllm's features go on the training pool?

Repeated five-fold cross-validation (20 partitions, seeds 0-19) over the
KoNViD-1k train split and over CLIVE of fixed regressors on the features
`cpllm baseline --deep mobilenetv2` computes and caches (features.jsonl):
the 45 statistics the model's statistics token carries ("signals": 38
natural-scene statistics and 7 tone/artifact signals), the 352 channel
means of MobileNetV2's middle stages the model reads ("mid"), each of the
network's 8 stages, and all 3984 features. Regressors, each fit on the
training folds only, hyperparameters by inner leave-one-out/K-fold on
them:

  ridge  z-scored features, lambda by exact leave-one-out error (closed form)
  krr    RBF kernel ridge regression, lambda and width by inner 4-fold CV
  joint  ridge fit on the training folds plus every CLIVE image (KoNViD only;
         MOS of both mapped to [1, 5], CLIVE rows weighted to the KoNViD rows' total)
  ens    mean of the z-scored ridge(mid) and krr(signals) predictions

Prints and writes (--out DIR) ceiling.json and ceiling.md: per set and
configuration the SRCC of the pooled out-of-fold predictions, mean +- std
over the 20 partitions. The best of ~40 configurations chosen on the same
clips is an optimistic estimate of what any of them would do on new clips.

  ceiling.py --konvid runs/real/baseline-deep/konvid-dev/features.jsonl \
      --konvid-labels ../shared/realdata/labels/VIDEVAL/features/KONVID_1K_metadata.csv \
      --konvid-ids ../shared/realdata/splits/konvid1k-train.txt \
      --clive runs/real/baseline-deep/clive-all/features.jsonl \
      --clive-data ../shared/realdata/CLIVE/Data --out experiments/results/real-ceiling
"""
import argparse
import json
import os

import numpy as np
import scipy.io
from scipy import stats

STAGES = ["expanded_conv", "block_2", "block_5", "block_9", "block_12", "block_15", "block_16", "out_relu"]
MID = ["block_5", "block_9", "block_12", "block_15"]
REPEATS = 20


def load_features(path):
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}: not JSON ({e}); a torn last line means the baseline run was interrupted: rerun it")
            if r.get("deep") != "mobilenetv2":
                raise SystemExit(f"{path}:{n}: id {r.get('id')}: no MobileNetV2 features (run cpllm baseline --deep mobilenetv2)")
            out[r["id"]] = r["features"]
    return out


def feature_sets(names):
    sig = [n for n in names if not n.startswith(("mnv2_", "bitrate_"))]
    if len(sig) != 45:
        raise SystemExit(f"expected the 45 statistics, found {len(sig)}")
    stage = lambda s, kind: [n for n in names if n.startswith(f"mnv2_{s}_{kind}_")]
    mid = sum((stage(s, "mean") for s in MID), [])
    sets = {"signals": sig, "mid": mid, "mid+signals": mid + sig,
            "all": [n for n in names if n.startswith("mnv2_")]}
    for s in STAGES:
        sets[f"{s} mean+std"] = stage(s, "mean") + stage(s, "std")
    return sets


def zfit(X):
    mu, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1
    return mu, sd


def ridge_fit(X, y, w=None):
    """Ridge on z-scored X, lambda by exact leave-one-out error (the hat
    matrix's diagonal) over a log grid, as cpllm baseline's ridge does."""
    mu, sd = zfit(X)
    ym, beta = ridge_loo((X - mu) / sd, y, np.ones(len(y)) if w is None else w)
    return lambda Xn: ym + ((Xn - mu) / sd) @ beta


def ridge_loo(Z, y, w):
    """Weighted ridge of y on the columns of Z with a free intercept; lambda
    on a log grid by exact weighted leave-one-out error. Returns the
    intercept and the weights."""
    sw = np.sqrt(w / w.mean())
    ym = np.average(y, weights=w)
    U, s, Vt = np.linalg.svd(Z * sw[:, None], full_matrices=False)
    uy = U.T @ ((y - ym) * sw)
    best = None
    for lam in np.logspace(-3, 5, 33):
        f = s**2 / (s**2 + lam)
        resid = (y - ym) * sw - U @ (f * uy)
        h = (U**2) @ f
        loo = np.sum((resid / (1 - h)) ** 2)
        if best is None or loo < best[0]:
            best = (loo, lam)
    lam = best[1]
    return ym, Vt.T @ (s / (s**2 + lam) * uy)


def rbf(A, B, gamma):
    d = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return np.exp(-gamma * np.maximum(d, 0))


def krr_fit(X, y, rng):
    """RBF kernel ridge on z-scored X; lambda and width by inner 4-fold CV."""
    mu, sd = zfit(X)
    Z = (X - mu) / sd
    p = Z.shape[1]
    folds = np.array_split(rng.permutation(len(y)), 4)
    best = None
    for g in (0.1 / p, 0.3 / p, 1.0 / p, 3.0 / p):
        K = rbf(Z, Z, g)
        for lam in (0.01, 0.1, 1.0, 10.0):
            err = 0.0
            for te in folds:
                tr = np.setdiff1d(np.arange(len(y)), te)
                ym = y[tr].mean()
                a = np.linalg.solve(K[np.ix_(tr, tr)] + lam * np.eye(len(tr)), y[tr] - ym)
                err += np.sum((K[np.ix_(te, tr)] @ a + ym - y[te]) ** 2)
            if best is None or err < best[0]:
                best = (err, g, lam)
    _, g, lam = best
    ym = y.mean()
    a = np.linalg.solve(rbf(Z, Z, g) + lam * np.eye(len(y)), y - ym)
    return lambda Xn: ym + rbf((Xn - mu) / sd, Z, g) @ a


def zs(v):
    return (v - v.mean()) / v.std()


def cv(n, seed):
    return np.array_split(np.random.default_rng(seed).permutation(n), 5)


def run_set(name, feats, mos, ids, sets, configs, extra=None):
    rows = []
    for cfg in configs:
        srccs = []
        for rep in range(REPEATS):
            pred = np.zeros(len(ids))
            rng = np.random.default_rng(1000 + rep)
            for te in cv(len(ids), rep):
                tr = np.setdiff1d(np.arange(len(ids)), te)
                pred[te] = cfg["fn"](tr, te, rng)
            srccs.append(stats.spearmanr(pred, mos)[0])
        r = {"set": name, "config": cfg["name"], "n": len(ids), "srcc_mean": float(np.mean(srccs)),
             "srcc_std": float(np.std(srccs, ddof=1)), "srcc": [float(s) for s in srccs]}
        print(f"{name:9s} {cfg['name']:34s} {r['srcc_mean']:.3f} +- {r['srcc_std']:.3f}", flush=True)
        rows.append(r)
    return rows


def configs_for(X, y, sets, names, joint=None):
    col = {n: i for i, n in enumerate(names)}
    M = lambda s: X[:, [col[n] for n in sets[s]]]
    out = []
    for s in sets:
        out.append({"name": f"ridge {s}", "fn": lambda tr, te, rng, A=M(s): ridge_fit(A[tr], y[tr])(A[te])})
    for s in ("signals", "mid", "mid+signals"):
        out.append({"name": f"krr {s}", "fn": lambda tr, te, rng, A=M(s): krr_fit(A[tr], y[tr], rng)(A[te])})
    if joint is not None:
        for s in ("signals", "mid", "mid+signals"):
            J, jy = joint(sets[s])

            def fn(tr, te, rng, A=M(s), J=J, jy=jy):
                w = np.concatenate([np.ones(len(tr)), np.full(len(jy), len(tr) / len(jy))])
                return ridge_fit(np.vstack([A[tr], J]), np.concatenate([y[tr], jy]), w)(A[te])
            out.append({"name": f"joint ridge {s} (+CLIVE)", "fn": fn})

    def ens(tr, te, rng, A=M("mid"), B=M("signals")):
        p = ridge_fit(A[tr], y[tr])(np.vstack([A[te], A[tr]]))
        q = krr_fit(B[tr], y[tr], rng)(np.vstack([B[te], B[tr]]))
        # z-scored with the training rows' predictions, so a fold's scale comes from training data only
        k = len(te)
        return (p[:k] - p[k:].mean()) / p[k:].std() + (q[:k] - q[k:].mean()) / q[k:].std()
    out.append({"name": "ens ridge mid + krr signals", "fn": ens})
    return out


def konvid_mos(path):
    """KoNViD-1k's MOS by flickr id, from VIDEVAL's metadata CSV."""
    mos = {}
    with open(path) as f:
        head = f.readline().strip().split(",")
        for line in f:
            v = dict(zip(head, line.strip().split(",")))
            mos[v["flickr_id"]] = float(v["mos"])
    return mos


def load_pool(a):
    """The cached features and MOS of KoNViD-1k's listed clips and of CLIVE
    (arguments konvid, konvid_labels, konvid_ids, clive, clive_data):
    KoNViD features by id, KoNViD MOS by id, the listed ids (each must have
    features), CLIVE features by id, CLIVE MOS (0-100) by image name."""
    kf = load_features(a.konvid)
    mos = konvid_mos(a.konvid_labels)
    kids = [l.strip() for l in open(a.konvid_ids) if l.strip()]
    missing = [i for i in kids if i not in kf]
    if missing:
        raise SystemExit(f"{a.konvid}: {len(missing)} clips of {a.konvid_ids} have no features, e.g. {missing[0]}")
    cf = load_features(a.clive)
    imgs = scipy.io.loadmat(os.path.join(a.clive_data, "AllImages_release.mat"))["AllImages_release"]
    cm = scipy.io.loadmat(os.path.join(a.clive_data, "AllMOS_release.mat"))["AllMOS_release"].ravel()
    cmos = {str(im[0][0]).rsplit(".", 1)[0]: float(m) for im, m in zip(imgs, cm)}
    return kf, mos, kids, cf, cmos


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--konvid", required=True)
    ap.add_argument("--konvid-labels", required=True)
    ap.add_argument("--konvid-ids", required=True)
    ap.add_argument("--clive", required=True)
    ap.add_argument("--clive-data", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    kf, mos, kids, cf, cmos = load_pool(a)
    names = sorted(kf[kids[0]])
    sets = feature_sets(names)

    cids = sorted(i for i in cf if i in cmos)
    cnames = sorted(set(names) - {"bitrate_bpps", "bitrate_kbps"})
    csets = {k: v for k, v in feature_sets(cnames).items()}

    XK = np.array([[kf[i][n] for n in names] for i in kids])
    yK = np.array([mos[i] for i in kids])
    XC = np.array([[cf[i][n] for n in cnames] for i in cids])
    yC = np.array([cmos[i] for i in cids])
    joint = lambda sel: (XC[:, [cnames.index(n) for n in sel]], 1 + 4 * yC / 100)

    rows = run_set("konvid1k", kf, yK, kids, sets, configs_for(XK, yK, sets, names, joint))
    rows += run_set("clive", cf, yC, cids, csets, configs_for(XC, yC, csets, cnames))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "ceiling.json"), "w") as f:
        json.dump({"repeats": REPEATS, "folds": 5, "rows": rows}, f, indent=1)
    with open(os.path.join(a.out, "ceiling.md"), "w") as f:
        f.write(f"Pooled out-of-fold SRCC, mean +- std over {REPEATS} five-fold partitions (seeds 0-{REPEATS - 1}); ceiling.py.\n\n")
        f.write("| set | n | configuration | SRCC |\n|---|--:|---|---|\n")
        for r in rows:
            f.write(f"| {r['set']} | {r['n']} | {r['config']} | {r['srcc_mean']:.3f} +- {r['srcc_std']:.3f} |\n")


if __name__ == "__main__":
    main()
