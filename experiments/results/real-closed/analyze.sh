#!/bin/sh
# Every figure of README.md from the finished cells of
# experiments/real-closed.yaml (runs/real-closed), their starts
# (start.sh: runs/start-closed) and the committed results of ../real-still
# (same folds, seeds and data: the recipe shipped before) and
# ../real-deepstats (the regressions' out-of-fold and holdout
# predictions). Run from the repository root after start.sh and
#   bin/cpllm sweep experiments/real-closed.yaml --out runs
# Needs runs/real/ladder-val and runs/real/ladder-dev (../real-last/README.md).
# SHIPPED=1 also grades the shipped checkpoint (models/real).
set -eu
BIN=${BIN:-bin/cpllm}
PY=${PY:-/usr/bin/python3}
R=experiments/results/real-closed
S=experiments/results/real-still
D=experiments/results/real-deepstats
SEEDS="1 2 3 4 5"
H=-describe-ladder-heads
mkdir -p $R/oof $R/compare $R/holdout $R/ladder-val $R/ladder-dev

# The trained cells score as their starts: every held-out prediction equal.
$PY $R/check.py --trained runs/real-closed --start runs/start-closed > $R/check.txt
cat $R/check.txt

# Pooled out-of-fold predictions per seed and their seed mean (the starts:
# check.txt says they are the trained cells' too).
for set in konvid1k clive; do
  $PY experiments/results/real-framestats/oof.py --set $set --seeds $SEEDS --out $R/oof/closed \
    $(for k in 0 1 2 3 4; do echo --fold runs/start-closed/fold$k; done)
done
{
  echo "## real-closed vs real-still's two stages (shipped before)"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/closed --b $S/oof/still$H --seeds $SEEDS
} > $R/oof/cv_compare.txt
cat $R/oof/cv_compare.txt

# The seed mean against the regressions' out-of-fold predictions (Williams).
for b in ridge_signals krr_signals ridge_mnv2mid_signals krr_mnv2mid_signals; do
  $BIN compare $R/oof/closed-konvid1k-seedmean.csv $D/oof/$b-konvid.csv > $R/compare/closed-konvid1k-seedmean-vs-$b.txt
  $BIN compare $R/oof/closed-clive-seedmean.csv $D/oof/$b-clive.csv > $R/compare/closed-clive-seedmean-vs-$b.txt
done

# Fixed holdout (fold 0) and the two CRF ladders, paired with real-still.
LADDER_ARGS=""
for l in val dev; do
  [ -f runs/real-closed-ladder-$l/fold0/ladder.json ] ||
    $BIN eval ladder $(for s in $SEEDS; do echo --checkpoint runs/start-closed/fold0/seed$s; done) \
      --ladder runs/real/ladder-$l --out runs/real-closed-ladder-$l/fold0
  mkdir -p $R/ladder-$l/fold0
  cp runs/real-closed-ladder-$l/fold0/ladder.json runs/real-closed-ladder-$l/fold0/ladder.md \
    runs/real-closed-ladder-$l/fold0/ladder-seed*.png $R/ladder-$l/fold0/
  LADDER_ARGS="$LADDER_ARGS --ladder $l=$R/ladder-$l/fold0/ladder.json,$S/ladder-$l/fold0$H/ladder.json"
done
$PY experiments/results/real-statslinear/compare.py --a runs/start-closed/fold0 --b runs/real-still/fold0$H \
  $LADDER_ARGS > $R/holdout/fold0-vs-still.txt
cat $R/holdout/fold0-vs-still.txt

# Holdout and dev: the seed-1 cell (what make model ships) and the 5
# seeds' mean prediction against the ridges of the same training rows
# (Williams' test; ../real-deepstats/shipped/ridge).
mkdir -p $R/seed1/fold0 $R/seedmean/fold0
for set in val-konvid1k val-clive dev-konvid1k; do
  cp runs/start-closed/fold0/seed1/predictions/$set.csv $R/seed1/fold0/
  $PY $S/seedmean.py --variant runs/start-closed/fold0 --set $set --seeds $SEEDS --out $R/seedmean/fold0/$set.csv
  for b in ridge_signals ridge_mnv2mid_signals krr_signals krr_mnv2mid_signals; do
    $BIN compare $R/seed1/fold0/$set.csv $D/shipped/ridge/$b-$set.csv > $R/seed1/fold0/compare-$b-$set.txt
    $BIN compare $R/seedmean/fold0/$set.csv $D/shipped/ridge/$b-$set.csv > $R/seedmean/fold0/compare-$b-$set.txt
  done
done

if [ "${SHIPPED:-0}" = 1 ]; then
  # the decoder's own text (describe/) and what cpllm score prints, opening
  # with the score's level (describe-lead/)
  mkdir -p $R/describe $R/describe-lead $R/shipped
  $BIN eval describe --checkpoint models/real --out runs/real-closed-describe/shipped \
    $(cat experiments/results/real-rank/describe/files.txt)
  cp runs/real-closed-describe/shipped/describe.json runs/real-closed-describe/shipped/describe.md \
    runs/real-closed-describe/shipped/describe.png $R/describe/
  $BIN eval describe --level-lead --checkpoint models/real --out runs/real-closed-describe/shipped-lead \
    $(cat experiments/results/real-rank/describe/files.txt)
  cp runs/real-closed-describe/shipped-lead/describe.json runs/real-closed-describe/shipped-lead/describe.md \
    runs/real-closed-describe/shipped-lead/describe.png $R/describe-lead/
  $BIN score ../shared/realdata/LSVQ/yfcc-batch22/17734.mp4 ../shared/realdata/LSVQ/yfcc-batch3/1724.mp4 \
    ../shared/realdata/YouTube-UGC/Animation_360P-24d4.mp4 ../shared/realdata/YouTube-UGC/Lecture_360P-03bc.mp4 \
    > $R/shipped/other-clips.jsonl
fi

# The cells' records beside the figures.
for d in runs/real-closed/*/seed* runs/start-closed/*/seed*; do
  c=$R/cells/${d#runs/}
  mkdir -p $c
  cp $d/done.json $c/
  grep '"eval"' $d/metrics.jsonl > $c/evals.jsonl || true
done
