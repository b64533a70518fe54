#!/bin/sh
# Every figure of README.md from the finished cells of
# experiments/real-kernel-slow.yaml (runs/real-kernel-slow) and the committed results
# of ../real-still (same folds, seeds and data: the recipe shipped before)
# and ../real-deepstats (the regressions' out-of-fold and holdout
# predictions). Run from the repository root after
#   bin/cpllm sweep experiments/real-kernel-slow.yaml --out runs
# Needs runs/real/ladder-val and runs/real/ladder-dev (../real-last/README.md).
# SHIPPED=1 also grades the shipped checkpoint (models/real); LADDERS=val
# leaves the dev ladder out (each ladder takes 5 checkpoints x 78 videos).
set -eu
BIN=${BIN:-bin/cpllm}
PY=${PY:-/usr/bin/python3}
R=experiments/results/real-kernel
S=experiments/results/real-still
D=experiments/results/real-deepstats
SEEDS="1 2 3 4 5"
H=-describe-ladder-heads
LADDERS=${LADDERS:-val dev}
mkdir -p $R/oof $R/compare $R/holdout $R/ladder-val $R/ladder-dev

# Pooled out-of-fold predictions per seed and their seed mean, both stages.
for v in "" $H; do
  for set in konvid1k clive; do
    $PY experiments/results/real-framestats/oof.py --set $set --seeds $SEEDS --out $R/oof/slow$v \
      $(for k in 0 1 2 3 4; do echo --fold runs/real-kernel-slow/fold$k$v; done)
  done
done
{
  echo "## stage 1 vs real-still stage 1"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/slow --b $S/oof/still --seeds $SEEDS
  echo "## stage 2 (frozen heads) vs real-still's (shipped before)"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/slow$H --b $S/oof/still$H --seeds $SEEDS
  echo "## stage 2 vs stage 1"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/slow$H --b $R/oof/slow --seeds $SEEDS
} > $R/oof/cv_compare.txt
# Pooled against the mean of the per-fold SRCCs, both stages.
$PY $R/perfold.py --recipe "real-kernel-slow stage 1=runs/real-kernel-slow:" --recipe "real-still stage 1=runs/real-still:" \
  --seeds $SEEDS > $R/perfold.md
$PY $R/perfold.py --recipe "real-kernel-slow stage 2=runs/real-kernel-slow:$H" --recipe "real-still stage 2=runs/real-still:$H" \
  --seeds $SEEDS | tail -n +3 >> $R/perfold.md

# The seed mean against the regressions' out-of-fold predictions (Williams).
for b in ridge_signals krr_signals ridge_mnv2mid_signals krr_mnv2mid_signals; do
  $BIN compare $R/oof/slow$H-konvid1k-seedmean.csv $D/oof/$b-konvid.csv > $R/compare/slow$H-konvid1k-seedmean-vs-$b.txt
  $BIN compare $R/oof/slow$H-clive-seedmean.csv $D/oof/$b-clive.csv > $R/compare/slow$H-clive-seedmean-vs-$b.txt
done

# Fixed holdout (fold 0) and the two CRF ladders, paired with real-still.
LADDER_ARGS=""
for l in $LADDERS; do
  [ -f runs/real-kernel-slow-ladder-$l/fold0$H/ladder.json ] ||
    $BIN eval ladder $(for s in $SEEDS; do echo --checkpoint runs/real-kernel-slow/fold0$H/seed$s; done) \
      --ladder runs/real/ladder-$l --out runs/real-kernel-slow-ladder-$l/fold0$H
  mkdir -p $R/ladder-$l/fold0$H
  cp runs/real-kernel-slow-ladder-$l/fold0$H/ladder.json runs/real-kernel-slow-ladder-$l/fold0$H/ladder.md \
    runs/real-kernel-slow-ladder-$l/fold0$H/ladder-seed*.png $R/ladder-$l/fold0$H/
  LADDER_ARGS="$LADDER_ARGS --ladder $l=$R/ladder-$l/fold0$H/ladder.json,$S/ladder-$l/fold0$H/ladder.json"
done
$PY experiments/results/real-statslinear/compare.py --a runs/real-kernel-slow/fold0$H --b runs/real-still/fold0$H \
  $LADDER_ARGS > $R/holdout/fold0$H-vs-still.txt
$PY experiments/results/real-statslinear/compare.py --a runs/real-kernel-slow/fold0 --b runs/real-still/fold0 > $R/holdout/fold0-vs-still.txt

# Holdout and dev, second stage: the seed-1 cell (what make model ships)
# and the 5 seeds' mean prediction against the ridges of the same training
# rows (Williams' test; ../real-deepstats/shipped/ridge).
mkdir -p $R/seed1/fold0$H $R/seedmean/fold0$H
for set in val-konvid1k val-clive dev-konvid1k; do
  cp runs/real-kernel-slow/fold0$H/seed1/predictions/$set.csv $R/seed1/fold0$H/
  $PY $S/seedmean.py --variant runs/real-kernel-slow/fold0$H --set $set --seeds $SEEDS --out $R/seedmean/fold0$H/$set.csv
  for b in ridge_signals ridge_mnv2mid_signals krr_signals krr_mnv2mid_signals; do
    $BIN compare $R/seed1/fold0$H/$set.csv $D/shipped/ridge/$b-$set.csv > $R/seed1/fold0$H/compare-$b-$set.txt
    $BIN compare $R/seedmean/fold0$H/$set.csv $D/shipped/ridge/$b-$set.csv > $R/seedmean/fold0$H/compare-$b-$set.txt
  done
done

if [ "${SHIPPED:-0}" = 1 ]; then
  mkdir -p $R/describe $R/shipped
  $BIN eval describe --checkpoint models/real --out runs/real-kernel-slow-describe/fold0$H \
    $(cat experiments/results/real-rank/describe/files.txt)
  cp runs/real-kernel-slow-describe/fold0$H/describe.json runs/real-kernel-slow-describe/fold0$H/describe.md \
    runs/real-kernel-slow-describe/fold0$H/describe.png $R/describe/
  $BIN score ../shared/realdata/LSVQ/yfcc-batch22/17734.mp4 ../shared/realdata/LSVQ/yfcc-batch3/1724.mp4 \
    ../shared/realdata/YouTube-UGC/Animation_360P-24d4.mp4 ../shared/realdata/YouTube-UGC/Lecture_360P-03bc.mp4 \
    > $R/shipped/other-clips.jsonl
fi

# The cells' records beside the figures.
for d in runs/real-kernel-slow/*/seed*; do
  c=$R/cells/${d#runs/}
  mkdir -p $c
  cp $d/done.json $c/
  grep '"eval"' $d/metrics.jsonl > $c/evals.jsonl || true
done
