#!/bin/sh
# The model at its start, before training: real-gate's and real-kernel's
# first stage (foldK, seed 1) with one step at learning rate 1e-12 and no
# warmup, so the weights stay where stats_linear_init put them (with the
# level gate at 0 the score is the ridge's reading, or the ridge's and the
# kernel ridge's mean). Pooled out-of-fold SRCC of the five folds into
# init/init.md. Run from the repository root after make model-data-deep.
set -eu
BIN=${BIN:-bin/cpllm}
PY=${PY:-/usr/bin/python3}
R=experiments/results/real-kernel
OUT=${OUT:-runs/init}
mkdir -p $R/init
for e in gate kernel; do
  y=experiments/.init-$e.yaml
  sed -e "s/^name: real-$e/name: init-$e/" \
      -e 's/^      select: last$/      select: last\n      steps: 1\n      eval_every: 0\n      warmup_steps: 0\n      lr: 1.0e-12/' \
      experiments/real-$e.yaml > $y
  for k in 0 1 2 3 4; do $BIN sweep $y --out $OUT --shard $k/50; done
  rm $y
  for set in konvid1k clive; do
    $PY experiments/results/real-framestats/oof.py --set $set --seeds 1 --out $R/init/init-$e \
      $(for k in 0 1 2 3 4; do echo --fold $OUT/init-$e/fold$k; done)
  done
done
$PY - $R/init > $R/init/init.md <<'PY'
import csv, sys
from scipy import stats
print("| start | KoNViD-1k train split (63) | CLIVE (627) |\n|---|---|---|")
for e, name in (("gate", "ridge (real-gate)"), ("kernel", "ridge + kernel ridge (real-kernel)")):
    row = []
    for s in ("konvid1k", "clive"):
        r = list(csv.DictReader(open(f"{sys.argv[1]}/init-{e}-{s}-seed1.csv")))
        row.append(f"{stats.spearmanr([float(x['pred']) for x in r], [float(x['mos']) for x in r])[0]:.3f}")
    print(f"| {name} | {row[0]} | {row[1]} |")
PY
cat $R/init/init.md
# The start's compression sensitivity: the fold-0 kernel start on the
# validation ladder (held-out clips' CRF re-encodes, runs/real/ladder-val).
$BIN eval ladder --checkpoint $OUT/init-kernel/fold0/seed1 --ladder runs/real/ladder-val --out $OUT/init-kernel-ladder-val
mkdir -p $R/init/ladder-val
cp $OUT/init-kernel-ladder-val/ladder.json $OUT/init-kernel-ladder-val/ladder.md $R/init/ladder-val/
