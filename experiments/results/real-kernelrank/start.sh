#!/bin/sh
# The start of every real-kernelrank cell: experiments/real-kernelrank.yaml's
# first stage (foldK, seeds 1-5) with one step at learning rate 1e-12 and
# no warmup, so the weights stay where stats_linear_init put them. With
# the heads frozen the trained cells score exactly as these
# (check.sh compares them). Run from the repository root after
# make model-data-deep; writes runs/start-kernelrank.
set -eu
BIN=${BIN:-bin/cpllm}
OUT=${OUT:-runs}
y=experiments/.start-kernelrank.yaml
# the first stage's variants (not -describe) train one step at lr 1e-12
awk '/^  - name:/ { first = ($3 !~ /describe/) }
     { print }
     first && /^      holdout.fold:/ { print "      steps: 1\n      warmup_steps: 0\n      lr: 1.0e-12" }' experiments/real-kernelrank.yaml |
  sed 's/^name: real-kernelrank$/name: start-kernelrank/' > $y
for s in 1 2 3 4 5; do
  for k in 0 1 2 3 4; do $BIN sweep $y --out $OUT --shard $(( (s - 1) * 10 + k ))/50; done
done
rm $y
