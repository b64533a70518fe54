#!/bin/bash
# seeds 2-5 of make demo's recipe under the CPUID mask, on make demo-avx2's shards and tokenizer
cd /work/main
D=runs/demo-avx2
while [ ! -s $D/tokenizer/spm.model ] || ! grep -q "tokenizer" runs/demo-avx2.log; do sleep 20; done
sleep 5
for n in 2 3 4 5; do
  out=runs/demo-avx2-seeds/seed$n
  mkdir -p $out
  LD_PRELOAD=/work/main/.deps/cpuidmask.so ./bin/cpllm --config configs/demo.yaml --set model.tokenizer=$D/tokenizer/spm.model \
     --set model.seed=$n --set train.seed=$n train --train-shards $D/shards/train --val-shards $D/shards/val --out $out/run > $out/train.log 2>&1 || { echo "seed $n train failed"; continue; }
  LD_PRELOAD=/work/main/.deps/cpuidmask.so ./bin/cpllm --config configs/demo.yaml eval --checkpoint $out/run --datasets shards:$D/shards/test --out $out/eval > $out/eval.log 2>&1 || echo "seed $n eval failed"
  echo "seed $n done $(date)"
done
