#!/bin/sh
# Every figure of README.md from the finished cells of
# experiments/real-gate.yaml (runs/real-gate) and the committed results of
# ../real-still (same folds, seeds and data without the gate) and
# ../real-deepstats (the regressions' out-of-fold and holdout predictions).
# Run from the repository root after
#   bin/cpllm sweep experiments/real-gate.yaml --out runs
# Needs runs/real/ladder-val and runs/real/ladder-dev (../real-last/README.md).
# Stage 2 is analysed when its cells are there.
set -eu
BIN=${BIN:-bin/cpllm}
PY=${PY:-/usr/bin/python3}
R=experiments/results/real-gate
S=experiments/results/real-still
D=experiments/results/real-deepstats
SEEDS="1 2 3 4 5"
STAGES=""
[ -f runs/real-gate/fold4/seed5/done.json ] && STAGES=""
[ -f runs/real-gate/fold4-describe-ladder-heads/seed5/done.json ] && STAGES="-describe-ladder-heads"
mkdir -p $R/oof $R/compare $R/holdout $R/ladder-val $R/ladder-dev

for v in "" $STAGES; do
  for set in konvid1k clive; do
    $PY experiments/results/real-framestats/oof.py --set $set --seeds $SEEDS --out $R/oof/gate$v \
      $(for k in 0 1 2 3 4; do echo --fold runs/real-gate/fold$k$v; done)
  done
done

{
  echo "## stage 1 vs real-still stage 1"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/gate --b $S/oof/still --seeds $SEEDS
  for v in $STAGES; do
    echo "## stage 2, heads frozen, vs real-still's (shipped)"
    $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/gate$v --b $S/oof/still$v --seeds $SEEDS
    echo "## stage 2, heads frozen, vs stage 1"
    $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/gate$v --b $R/oof/gate --seeds $SEEDS
  done
} > $R/oof/cv_compare.txt

# The fixed holdout (fold 0) against real-still's same stage.
$PY experiments/results/real-statslinear/compare.py --a runs/real-gate/fold0 --b runs/real-still/fold0 > $R/holdout/fold0-vs-still.txt
for v in $STAGES; do
  for l in val dev; do
    [ -f runs/real-gate-ladder-$l/fold0$v/ladder.json ] ||
      $BIN eval ladder $(for s in $SEEDS; do echo --checkpoint runs/real-gate/fold0$v/seed$s; done) \
        --ladder runs/real/ladder-$l --out runs/real-gate-ladder-$l/fold0$v
    mkdir -p $R/ladder-$l/fold0$v
    cp runs/real-gate-ladder-$l/fold0$v/ladder.json runs/real-gate-ladder-$l/fold0$v/ladder.md \
      runs/real-gate-ladder-$l/fold0$v/ladder-seed*.png $R/ladder-$l/fold0$v/
  done
  $PY experiments/results/real-statslinear/compare.py --a runs/real-gate/fold0$v --b runs/real-still/fold0$v \
    --ladder val=$R/ladder-val/fold0$v/ladder.json,$S/ladder-val/fold0$v/ladder.json \
    --ladder dev=$R/ladder-dev/fold0$v/ladder.json,$S/ladder-dev/fold0$v/ladder.json > $R/holdout/fold0$v-vs-still.txt
  # the 5 seeds' mean prediction against the regressions (Williams' test)
  for b in ridge_signals krr_signals ridge_mnv2mid_signals krr_mnv2mid_signals; do
    $BIN compare $R/oof/gate$v-konvid1k-seedmean.csv $D/oof/$b-konvid.csv > $R/compare/gate$v-konvid1k-seedmean-vs-$b.txt
    $BIN compare $R/oof/gate$v-clive-seedmean.csv $D/oof/$b-clive.csv > $R/compare/gate$v-clive-seedmean-vs-$b.txt
  done
done

# The cells' records beside the figures.
for d in runs/real-gate/*/seed*; do
  [ -f $d/done.json ] || continue
  c=$R/cells/${d#runs/}
  mkdir -p $c
  cp $d/done.json $c/
  grep '"eval"' $d/metrics.jsonl > $c/evals.jsonl || true
done
