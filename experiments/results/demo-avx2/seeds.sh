#!/bin/bash
# Seeds 2-5 of make demo's recipe under the CPUID mask, on make demo-avx2's
# shards and tokenizer (run `make demo-avx2` first). From the repository root.
set -euo pipefail
D=runs/demo-avx2
[ -s $D/tokenizer/spm.model ] || { echo "$D/tokenizer/spm.model missing: run make demo-avx2 first" >&2; exit 1; }
make --no-print-directory cpuidmask
export LD_PRELOAD=$PWD/.deps/cpuidmask.so
for n in 2 3 4 5; do
  out=runs/demo-avx2-seeds/seed$n
  mkdir -p $out
  ./bin/cpllm --config configs/demo.yaml --set model.tokenizer=$D/tokenizer/spm.model \
    --set model.seed=$n --set train.seed=$n train --train-shards $D/shards/train --val-shards $D/shards/val --out $out/run > $out/train.log 2>&1
  ./bin/cpllm --config configs/demo.yaml eval --checkpoint $out/run --datasets shards:$D/shards/test --out $out/eval > $out/eval.log 2>&1
  echo "seed $n done"
done
