#!/bin/sh
# Every figure of README.md from the finished cells of
# experiments/real-kernelrank.yaml (runs/real-kernelrank), their starts
# (start.sh: runs/start-kernelrank) and the committed results of
# ../real-closed (same folds, seeds and data: the recipe without the
# kernel's ladder term) and ../real-deepstats (the regressions'
# out-of-fold and holdout predictions). Run from the repository root after
# start.sh and
#   bin/cpllm sweep experiments/real-kernelrank.yaml --out runs
# Needs runs/real/ladder-val and runs/real/ladder-dev (../real-last/README.md).
# SHIPPED=1 also grades the shipped checkpoint (models/real).
set -eu
BIN=${BIN:-bin/cpllm}
PY=${PY:-/usr/bin/python3}
R=experiments/results/real-kernelrank
C=experiments/results/real-closed
D=experiments/results/real-deepstats
SEEDS="1 2 3 4 5"
mkdir -p $R/oof $R/compare $R/holdout $R/ladder-val $R/ladder-dev

# The trained cells score as their starts: every held-out prediction equal.
$PY $C/check.py --trained runs/real-kernelrank --start runs/start-kernelrank > $R/check.txt
cat $R/check.txt

# Pooled out-of-fold predictions per seed and their seed mean (the starts:
# check.txt says they are the trained cells' too).
for set in konvid1k clive; do
  $PY experiments/results/real-framestats/oof.py --set $set --seeds $SEEDS --out $R/oof/kernelrank \
    $(for k in 0 1 2 3 4; do echo --fold runs/start-kernelrank/fold$k; done)
done
{
  echo "## real-kernelrank vs real-closed (the kernel without its ladder term)"
  $PY experiments/results/real-lpft/cv_compare.py --a $R/oof/kernelrank --b $C/oof/closed --seeds $SEEDS
} > $R/oof/cv_compare.txt
cat $R/oof/cv_compare.txt

# The seed mean against the regressions' out-of-fold predictions (Williams).
for b in ridge_signals krr_signals ridge_mnv2mid_signals krr_mnv2mid_signals; do
  $BIN compare $R/oof/kernelrank-konvid1k-seedmean.csv $D/oof/$b-konvid.csv > $R/compare/kernelrank-konvid1k-seedmean-vs-$b.txt
  $BIN compare $R/oof/kernelrank-clive-seedmean.csv $D/oof/$b-clive.csv > $R/compare/kernelrank-clive-seedmean-vs-$b.txt
done
$BIN compare $R/oof/kernelrank-konvid1k-seedmean.csv $C/oof/closed-konvid1k-seedmean.csv > $R/compare/kernelrank-konvid1k-seedmean-vs-closed.txt
$BIN compare $R/oof/kernelrank-clive-seedmean.csv $C/oof/closed-clive-seedmean.csv > $R/compare/kernelrank-clive-seedmean-vs-closed.txt

# Fixed holdout (fold 0) and the two CRF ladders, paired with real-closed.
LADDER_ARGS=""
for l in val dev; do
  [ -f runs/real-kernelrank-ladder-$l/fold0/ladder.json ] ||
    $BIN eval ladder $(for s in $SEEDS; do echo --checkpoint runs/start-kernelrank/fold0/seed$s; done) \
      --ladder runs/real/ladder-$l --out runs/real-kernelrank-ladder-$l/fold0
  mkdir -p $R/ladder-$l/fold0
  cp runs/real-kernelrank-ladder-$l/fold0/ladder.json runs/real-kernelrank-ladder-$l/fold0/ladder.md \
    runs/real-kernelrank-ladder-$l/fold0/ladder-seed*.png $R/ladder-$l/fold0/
  LADDER_ARGS="$LADDER_ARGS --ladder $l=$R/ladder-$l/fold0/ladder.json,$C/ladder-$l/fold0/ladder.json"
done
$PY experiments/results/real-statslinear/compare.py --a runs/start-kernelrank/fold0 --b $C/cells/start-closed/fold0 \
  $LADDER_ARGS > $R/holdout/fold0-vs-closed.txt
cat $R/holdout/fold0-vs-closed.txt

# Holdout and dev: the seed-1 cell (what make model ships) and the 5
# seeds' mean prediction against the ridges of the same training rows
# (Williams' test; ../real-deepstats/shipped/ridge).
mkdir -p $R/seed1/fold0 $R/seedmean/fold0
for set in val-konvid1k val-clive dev-konvid1k; do
  cp runs/start-kernelrank/fold0/seed1/predictions/$set.csv $R/seed1/fold0/
  $PY experiments/results/real-still/seedmean.py --variant runs/start-kernelrank/fold0 --set $set --seeds $SEEDS --out $R/seedmean/fold0/$set.csv
  for b in ridge_signals ridge_mnv2mid_signals krr_signals krr_mnv2mid_signals; do
    $BIN compare $R/seed1/fold0/$set.csv $D/shipped/ridge/$b-$set.csv > $R/seed1/fold0/compare-$b-$set.txt
    $BIN compare $R/seedmean/fold0/$set.csv $D/shipped/ridge/$b-$set.csv > $R/seedmean/fold0/compare-$b-$set.txt
  done
done

if [ "${SHIPPED:-0}" = 1 ]; then
  # the shipped checkpoint (models/real): the decoder's own text
  # (describe/), what cpllm score prints, opening with the score's level
  # (describe-lead/), and the LSVQ / YouTube-UGC clips
  mkdir -p $R/describe $R/describe-lead $R/shipped
  $BIN eval describe --checkpoint models/real --out runs/real-kernelrank-describe/shipped \
    $(cat experiments/results/real-rank/describe/files.txt)
  cp runs/real-kernelrank-describe/shipped/describe.json runs/real-kernelrank-describe/shipped/describe.md \
    runs/real-kernelrank-describe/shipped/describe.png $R/describe/
  $BIN eval describe --level-lead --checkpoint models/real --out runs/real-kernelrank-describe/shipped-lead \
    $(cat experiments/results/real-rank/describe/files.txt)
  cp runs/real-kernelrank-describe/shipped-lead/describe.json runs/real-kernelrank-describe/shipped-lead/describe.md \
    runs/real-kernelrank-describe/shipped-lead/describe.png $R/describe-lead/
  $BIN score ../shared/realdata/LSVQ/yfcc-batch22/17734.mp4 ../shared/realdata/LSVQ/yfcc-batch3/1724.mp4 \
    ../shared/realdata/YouTube-UGC/Animation_360P-24d4.mp4 ../shared/realdata/YouTube-UGC/Lecture_360P-03bc.mp4 \
    > $R/shipped/other-clips.jsonl
fi

# Bootstrap CIs of the seed means and of the shipped cell (ci.md).
$PY $R/ci.py $R/oof/kernelrank-konvid1k-seedmean.csv $R/oof/kernelrank-clive-seedmean.csv \
  $R/seed1/fold0/val-konvid1k.csv $R/seed1/fold0/val-clive.csv $R/seed1/fold0/dev-konvid1k.csv \
  $R/seedmean/fold0/val-konvid1k.csv $R/seedmean/fold0/val-clive.csv $R/seedmean/fold0/dev-konvid1k.csv > $R/ci.md

# The cells' records beside the figures.
for d in runs/real-kernelrank/*/seed* runs/start-kernelrank/*/seed*; do
  [ -f $d/done.json ] || continue
  c=$R/cells/${d#runs/}
  mkdir -p $c
  cp $d/done.json $c/
  grep '"eval"' $d/metrics.jsonl > $c/evals.jsonl || true
done
