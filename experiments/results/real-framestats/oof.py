#!/usr/bin/python3
"""Out-of-fold predictions of a five-fold cross-validation sweep.

For each seed, the five folds' held-out predictions (a cell's
predictions/val-SET.csv) together predict every clip once; this writes
them as one CSV per seed and the seed-mean (each clip's prediction
averaged over the seeds) as a third CSV, for `cpllm metrics` and
`cpllm compare`:

  oof.py --set konvid1k --seeds 1 2 --out oof/frame-describe-ladder \
      --fold runs/real-framestats/frame-describe-ladder \
      --fold runs/real-cv-frames/fold1-describe-ladder ... (5 folds, fold 0 first)

writes oof/frame-describe-ladder-konvid1k-seed1.csv, -seed2.csv and
-konvid1k-seedmean.csv. A fold directory holds seed<k>/ cells.
--prior SEED=CSV (repeatable) adds a seed's out-of-fold CSV written
earlier (its cells trained elsewhere) to the seed mean, which is then
named -seedmean<seeds>.csv (e.g. -seedmean12345.csv).
"""
import argparse
import csv
import os


def read(path):
    with open(path) as f:
        return [(r["id"], float(r["pred"]), float(r["mos"])) for r in csv.DictReader(f)]


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "pred", "mos"])
        for i, p, m in rows:
            w.writerow([i, repr(p), repr(m)])


def seed_mean(per_seed, seeds):
    """Each clip's prediction averaged over seeds, in the first seed's order.

    per_seed[k] maps clip id to (pred, mos) for seeds[k]; every seed must
    predict the same clips with the same MOS.
    """
    ids = list(per_seed[0])
    for k, d in enumerate(per_seed[1:], 1):
        if set(d) != set(ids):
            raise SystemExit(f"seed {seeds[k]} predicts other clips than seed {seeds[0]}")
        for i in ids:
            if d[i][1] != per_seed[0][i][1]:
                raise SystemExit(f"seed {seeds[k]}: clip {i} has MOS {d[i][1]}, seed {seeds[0]} {per_seed[0][i][1]}")
    return [(i, sum(d[i][0] for d in per_seed) / len(per_seed), per_seed[0][i][1]) for i in ids]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", required=True, help="konvid1k or clive (predictions/val-SET.csv)")
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--fold", action="append", required=True, help="a fold's variant directory, fold 0 first")
    ap.add_argument("--out", required=True, help="output prefix")
    ap.add_argument("--prior", action="append", default=[], help="SEED=CSV: an earlier seed's out-of-fold CSV, averaged in")
    a = ap.parse_args()
    if len(a.fold) != 5:
        raise SystemExit(f"{len(a.fold)} folds, want 5")
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    per_seed = []
    for s in a.seeds:
        rows = []
        for d in a.fold:
            rows += read(os.path.join(d, f"seed{s}", "predictions", f"val-{a.set}.csv"))
        ids = [r[0] for r in rows]
        if len(set(ids)) != len(ids):
            raise SystemExit(f"seed {s}: a clip is held out by two folds")
        write(f"{a.out}-{a.set}-seed{s}.csv", rows)
        per_seed.append({i: (p, m) for i, p, m in rows})
    seeds = list(a.seeds)
    for spec in a.prior:
        seed, sep, path = spec.partition("=")
        if not sep or not seed.isdigit():
            raise SystemExit(f"--prior {spec!r}: want SEED=CSV")
        if int(seed) in seeds:
            raise SystemExit(f"--prior {spec!r}: seed {seed} given twice")
        seeds.append(int(seed))
        per_seed.append({i: (p, m) for i, p, m in read(path)})
    mean = seed_mean(per_seed, seeds)
    name = "seedmean" + ("".join(str(s) for s in sorted(seeds)) if a.prior else "")
    write(f"{a.out}-{a.set}-{name}.csv", mean)


if __name__ == "__main__":
    main()
