#!/bin/sh
# Every figure of README.md from the finished cells of
# experiments/real-still.yaml (runs/real-still) and the committed results of
# ../real-last (the shipped recipe before, same folds and seeds) and
# ../real-deepstats (the classic and feature regressions' out-of-fold and
# holdout predictions). Run from the repository root after
#   bin/cpllm sweep experiments/real-still.yaml --out runs
# Needs runs/real/ladder-val and runs/real/ladder-dev (../real-last/README.md).
set -eu
BIN=${BIN:-bin/cpllm}
PY=${PY:-/usr/bin/python3}
R=experiments/results/real-still
L=experiments/results/real-last
D=experiments/results/real-deepstats
SEEDS="1 2 3 4 5"
mkdir -p $R/oof $R/compare $R/holdout $R/ladder-val $R/ladder-dev

# Pooled out-of-fold predictions per seed and their seed mean, every stage.
for v in "" -describe-ladder -describe-ladder-heads; do
  for set in konvid1k clive; do
    $PY experiments/results/real-framestats/oof.py --set $set --seeds $SEEDS --out $R/oof/still$v \
      $(for k in 0 1 2 3 4; do echo --fold runs/real-still/fold$k$v; done)
  done
done

# Paired over seeds: each stage against the shipped recipe's same stage, and
# the frozen-heads second stage against the one that trains them.
{
  echo "## stage 1 vs real-last stage 1"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/still --b $L/oof/last --seeds $SEEDS
  echo "## stage 2 vs real-last stage 2"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/still-describe-ladder --b $L/oof/last-describe-ladder --seeds $SEEDS
  echo "## stage 2, heads frozen, vs real-last stage 2"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/still-describe-ladder-heads --b $L/oof/last-describe-ladder --seeds $SEEDS
  echo "## stage 2, heads frozen, vs stage 2"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/still-describe-ladder-heads --b $R/oof/still-describe-ladder --seeds $SEEDS
  echo "## stage 2 vs stage 1"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/still-describe-ladder --b $R/oof/still --seeds $SEEDS
  echo "## stage 2, heads frozen, vs stage 1"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/still-describe-ladder-heads --b $R/oof/still --seeds $SEEDS
} > $R/oof/cv_compare.txt

# The seed mean against the regressions' out-of-fold predictions (Williams).
for v in -describe-ladder -describe-ladder-heads; do
  for b in ridge_signals krr_signals ridge_mnv2mid_signals krr_mnv2mid_signals; do
    $BIN compare $R/oof/still$v-konvid1k-seedmean.csv $D/oof/$b-konvid.csv > $R/compare/still$v-konvid1k-seedmean-vs-$b.txt
    $BIN compare $R/oof/still$v-clive-seedmean.csv $D/oof/$b-clive.csv > $R/compare/still$v-clive-seedmean-vs-$b.txt
  done
done

# Fixed holdout (fold 0) and the two CRF ladders, paired with real-last.
for v in -describe-ladder -describe-ladder-heads; do
  for l in val dev; do
    [ -f runs/real-still-ladder-$l/fold0$v/ladder.json ] ||
      $BIN eval ladder $(for s in $SEEDS; do echo --checkpoint runs/real-still/fold0$v/seed$s; done) \
        --ladder runs/real/ladder-$l --out runs/real-still-ladder-$l/fold0$v
    mkdir -p $R/ladder-$l/fold0$v
    cp runs/real-still-ladder-$l/fold0$v/ladder.json runs/real-still-ladder-$l/fold0$v/ladder.md \
      runs/real-still-ladder-$l/fold0$v/ladder-seed*.png $R/ladder-$l/fold0$v/
  done
  $PY experiments/results/real-statslinear/compare.py --a runs/real-still/fold0$v --b runs/real-last/fold0-describe-ladder \
    --ladder val=runs/real-still-ladder-val/fold0$v/ladder.json,$L/ladder-val/ladder.json \
    --ladder dev=runs/real-still-ladder-dev/fold0$v/ladder.json,$L/ladder-dev/ladder.json > $R/holdout/fold0$v-vs-last.txt
done
$PY experiments/results/real-statslinear/compare.py --a runs/real-still/fold0 --b runs/real-last/fold0 > $R/holdout/fold0-vs-last.txt
# The shipped stage against the 45 statistics alone (the token before the
# pretrained features; ../real-framestats/), ladders included.
F=experiments/results/real-framestats
$PY experiments/results/real-statslinear/compare.py --a runs/real-still/fold0-describe-ladder-heads \
  --b $F/cells/real-framestats/frame-describe-ladder \
  --ladder val=$R/ladder-val/fold0-describe-ladder-heads/ladder.json,$F/ladder-val/frame-describe-ladder/ladder.json \
  --ladder dev=$R/ladder-dev/fold0-describe-ladder-heads/ladder.json,$F/ladder-dev/frame-describe-ladder/ladder.json \
  > $R/holdout/fold0-describe-ladder-heads-vs-frame-describe-ladder.txt

# Holdout and dev, second stage: the seed-1 cell (the recipe's seed, what
# make model ships) and the 5 seeds' mean prediction against the ridges of
# the same training rows (Williams' test; ../real-deepstats/shipped/ridge).
for v in -describe-ladder -describe-ladder-heads; do
  mkdir -p $R/seed1/fold0$v $R/seedmean/fold0$v
  for set in val-konvid1k val-clive dev-konvid1k; do
    cp runs/real-still/fold0$v/seed1/predictions/$set.csv $R/seed1/fold0$v/
    $PY $R/seedmean.py --variant runs/real-still/fold0$v --set $set --seeds $SEEDS --out $R/seedmean/fold0$v/$set.csv
    for b in ridge_signals ridge_mnv2mid_signals krr_signals krr_mnv2mid_signals; do
      $BIN compare $R/seed1/fold0$v/$set.csv $D/shipped/ridge/$b-$set.csv > $R/seed1/fold0$v/compare-$b-$set.txt
      $BIN compare $R/seedmean/fold0$v/$set.csv $D/shipped/ridge/$b-$set.csv > $R/seedmean/fold0$v/compare-$b-$set.txt
    done
  done
done

# The shipped checkpoint (make model: the fold0-describe-ladder-heads seed-1
# cell): its descriptions graded against each file's measurements, and the
# labelled clips of other datasets.
mkdir -p $R/describe $R/shipped
$BIN eval describe --checkpoint models/real --out runs/real-still-describe/fold0-describe-ladder-heads \
  $(cat experiments/results/real-rank/describe/files.txt)
cp runs/real-still-describe/fold0-describe-ladder-heads/describe.json \
  runs/real-still-describe/fold0-describe-ladder-heads/describe.md \
  runs/real-still-describe/fold0-describe-ladder-heads/describe.png $R/describe/
$BIN score ../shared/realdata/LSVQ/yfcc-batch22/17734.mp4 ../shared/realdata/LSVQ/yfcc-batch3/1724.mp4 \
  ../shared/realdata/YouTube-UGC/Animation_360P-24d4.mp4 ../shared/realdata/YouTube-UGC/Lecture_360P-03bc.mp4 \
  > $R/shipped/other-clips.jsonl

# The cells' records beside the figures: done.json and the validations
# of metrics.jsonl (evals.jsonl).
for d in runs/real-still/*/seed*; do
  c=$R/cells/${d#runs/}
  mkdir -p $c
  cp $d/done.json $c/
  grep '"eval"' $d/metrics.jsonl > $c/evals.jsonl || true
done
