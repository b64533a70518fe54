"""Do temporal statistics add to the model's features on KoNViD-1k?

Extracts 16 temporal statistics of each listed clip (ffmpeg CLI: every
frame, gray, area-scaled to 480x270) and runs ../real-ceiling/ceiling.py's
repeated five-fold cross-validation (20 partitions, seeds 0-19; every
hyperparameter on the training folds) on the KoNViD-1k train split with
and without them, beside the statistics and MobileNetV2 features the model
reads (cpllm baseline --deep mobilenetv2's features.jsonl).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from scipy import ndimage, stats

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "real-ceiling"))
import ceiling as C  # noqa: E402

W, H = 480, 270


def frames(path):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", f"scale={W}:{H}:flags=area,format=gray",
                          "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W).astype(np.float32)


def mscn(x):
    mu = ndimage.gaussian_filter(x, 7 / 6)
    s = np.sqrt(np.abs(ndimage.gaussian_filter(x * x, 7 / 6) - mu * mu))
    return (x - mu) / (s + 1)


def shift(a, b):
    """Global translation between two frames by phase correlation: its
    length in pixels and the correlation peak (low when no single shift
    explains the change: shake, blur, scene motion)."""
    R = np.fft.fft2(a - a.mean()) * np.conj(np.fft.fft2(b - b.mean()))
    r = np.fft.ifft2(R / (np.abs(R) + 1e-9)).real
    i = np.unravel_index(np.argmax(r), r.shape)
    dy, dx = [(v if v < n // 2 else v - n) for v, n in zip(i, r.shape)]
    return np.hypot(dx, dy), r.max()


def temporal(path):
    f = frames(path)
    n = len(f)
    D = np.diff(f, axis=0)
    mad = np.abs(D).mean((1, 2))                              # mean absolute frame difference
    lap = np.array([ndimage.laplace(x).var() for x in f[::2]])  # sharpness over time
    small = f[:, ::2, ::2]
    mot = np.array([shift(small[i], small[i + 1]) for i in range(n - 1)])
    mag, peak = mot[:, 0], mot[:, 1]
    tv, tk = [], []
    for i in np.linspace(0, n - 2, 24).astype(int):           # natural-scene statistics of frame differences
        m = mscn(D[i]).ravel()
        tv.append(m.var())
        tk.append(stats.kurtosis(m))
    out = {
        "t_mad_mean": np.log1p(mad.mean()), "t_mad_std": np.log1p(mad.std()),
        "t_mad_p90": np.log1p(np.percentile(mad, 90)), "t_mad_cv": mad.std() / (mad.mean() + 1e-3),
        "t_dup": (mad < 0.5).mean(),
        "t_lap_logmean": np.log(lap.mean() + 1), "t_lap_cv": lap.std() / (lap.mean() + 1e-3),
        "t_lap_minratio": np.log((lap.min() + 1) / (lap.max() + 1)),
        "t_mot_mean": np.log1p(mag.mean()), "t_mot_std": np.log1p(mag.std()),
        "t_jerk": np.log1p(np.abs(np.diff(mag)).mean()),
        "t_peak_mean": peak.mean(), "t_peak_min": peak.min(),
        "t_mscn_var": np.mean(tv), "t_mscn_kurt": np.log1p(np.mean(tk) + 3),
        "t_ti": np.log1p(np.std(D, axis=(1, 2)).max()),
    }
    return {k: float(v) for k, v in out.items()}


def load_temporal(videos, ids, cache):
    """Temporal statistics by id, from cache (JSON lines) where present,
    extracted and appended to it otherwise."""
    got = {}
    if os.path.exists(cache):
        for line in open(cache):
            if line.strip():
                r = json.loads(line)
                got[r["id"]] = r["features"]
    todo = [i for i in ids if i not in got]
    with open(cache, "a") as out:
        for k, i in enumerate(todo, 1):
            path = os.path.join(videos, i + ".mp4")
            if not os.path.exists(path):
                raise SystemExit(f"{path}: missing (listed in the ids file)")
            got[i] = temporal(path)
            out.write(json.dumps({"id": i, "features": got[i]}) + "\n")
            out.flush()
            print(f"temporal statistics {k}/{len(todo)}: {i}", flush=True)
    return got


def zsum(preds, k):
    """Sum of readings, each z-scored with its training rows' predictions
    (rows k onwards), so a fold's scale comes from training data only."""
    return sum((p[:k] - p[k:].mean()) / p[k:].std() for p in preds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--konvid", required=True, help="cpllm baseline --deep mobilenetv2 features.jsonl")
    ap.add_argument("--konvid-labels", required=True)
    ap.add_argument("--konvid-ids", required=True)
    ap.add_argument("--videos", required=True, help="KoNViD-1k's video folder")
    ap.add_argument("--cache", required=True, help="JSON lines of the temporal statistics (made when absent)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    kf = C.load_features(a.konvid)
    mos = C.konvid_mos(a.konvid_labels)
    ids = [l.strip() for l in open(a.konvid_ids) if l.strip()]
    tf = load_temporal(a.videos, ids, a.cache)
    sets = C.feature_sets(sorted(kf[ids[0]]))
    tn = sorted(tf[ids[0]])
    y = np.array([mos[i] for i in ids])
    mid = np.array([[kf[i][n] for n in sets["mid"]] for i in ids])
    sig = np.array([[kf[i][n] for n in sets["signals"]] for i in ids])
    T = np.array([[tf[i][n] for n in tn] for i in ids])

    ridge = lambda A: lambda tr, te, rng: C.ridge_fit(A[tr], y[tr])(A[te])
    krr = lambda A: lambda tr, te, rng: C.krr_fit(A[tr], y[tr], rng)(A[te])

    def ens(A, B, Tm=None):
        def fn(tr, te, rng):
            ev = lambda M: np.vstack([M[te], M[tr]])
            ps = [C.ridge_fit(A[tr], y[tr])(ev(A)), C.krr_fit(B[tr], y[tr], rng)(ev(B))]
            if Tm is not None:
                ps.append(C.ridge_fit(Tm[tr], y[tr])(ev(Tm)))
            return zsum(ps, len(te))
        return fn

    configs = [
        ("ridge temporal", ridge(T)), ("krr temporal", krr(T)),
        ("krr signals", krr(sig)), ("krr signals+temporal", krr(np.hstack([sig, T]))),
        ("ridge mid", ridge(mid)), ("ridge mid+temporal", ridge(np.hstack([mid, T]))),
        ("ens ridge mid + krr signals", ens(mid, sig)),
        ("ens ridge mid + krr signals+temporal", ens(mid, np.hstack([sig, T]))),
        ("ens ridge mid + krr signals + ridge temporal", ens(mid, sig, T)),
    ]
    rows = C.run_set("konvid1k", None, y, ids, None, [{"name": n, "fn": fn} for n, fn in configs])
    by = {r["config"]: np.array(r["srcc"]) for r in rows}
    pairs = [("krr signals+temporal", "krr signals"), ("ridge mid+temporal", "ridge mid"),
             ("ens ridge mid + krr signals+temporal", "ens ridge mid + krr signals"),
             ("ens ridge mid + krr signals + ridge temporal", "ens ridge mid + krr signals")]
    single = [{"statistic": n, "srcc": float(stats.spearmanr(T[:, j], y)[0])} for j, n in enumerate(tn)]

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "probe.json"), "w") as f:
        json.dump({"n": len(ids), "repeats": C.REPEATS, "folds": 5, "single": single, "rows": rows}, f, indent=1)
    with open(os.path.join(a.out, "probe.md"), "w") as f:
        f.write(f"KoNViD-1k train split ({len(ids)} clips); probe.py. Pooled out-of-fold SRCC, mean +- std over "
                f"{C.REPEATS} five-fold partitions (seeds 0-{C.REPEATS - 1}).\n\n| configuration | SRCC |\n|---|---|\n")
        for r in rows:
            f.write(f"| {r['config']} | {r['srcc_mean']:.3f} +- {r['srcc_std']:.3f} |\n")
        f.write("\n| with temporal - without | mean difference | partitions up |\n|---|--:|--:|\n")
        for p, q in pairs:
            d = by[p] - by[q]
            f.write(f"| {p} - {q} | {d.mean():+.3f} | {int(np.sum(d > 0))}/{len(d)} |\n")
        f.write("\nSRCC of each temporal statistic alone with the MOS (all clips):\n\n| statistic | SRCC |\n|---|--:|\n")
        for s in single:
            f.write(f"| {s['statistic']} | {s['srcc']:+.3f} |\n")


if __name__ == "__main__":
    main()
