#!/usr/bin/env bash
# The real small-scale Math-Shepherd run on SmolLM2-135M-Instruct (GGUF) and GSM8K:
#   1. SmolLM2 samples 2 solutions for each of the first $TRAIN GSM8K training problems;
#   2. SmolLM2 completes every step prefix $COMPLETIONS times (hard/soft estimation);
#   3. a PRM and an ORM are trained with LoRA on those annotations (SmolLM2 backbone);
#   4. on the first $TEST problems of the shared GSM8K test sample, SmolLM2 samples N = 8
#      candidates and PRM best-of-N, ORM best-of-N and self-consistency are compared at
#      N = 1, 2, 4, 8 (table, JSON and SVG plot in $OUT/verify).
# Training and test problems come from different GSM8K files (train.jsonl vs test_sample.jsonl).
# Usage: crates/math-shepherd/scripts/smollm2-gsm8k.sh [OUT] (from the repository root).
# Sizes are environment variables; the defaults are the (100 test problems, 200
# training problems, N = 8). On a 2-core CPU this takes many hours; on a GPU build
# (--features cuda, --device cuda) it is meant to fit in well under an hour.
set -euo pipefail
OUT=${1:-target/burnlp/math-shepherd-smollm2}
MODEL=${MODEL:-../shared/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf}
DATA=${DATA:-../shared/datasets/gsm8k}
TRAIN=${TRAIN:-200}
TEST=${TEST:-100}
COMPLETIONS=${COMPLETIONS:-8}
DEVICE=${DEVICE:-cpu}
SEED=${SEED:-1}
B=${B:-target/release/math-shepherd}
mkdir -p "$OUT"
cargo build --release -p math-shepherd
$B sample --generator "$MODEL" --problems "$DATA/train.jsonl" --limit "$TRAIN" -n 2 \
  --temperature 0.7 --max-tokens 256 --seed "$SEED" --device "$DEVICE" --out "$OUT/solutions.jsonl"
$B annotate --completer "$MODEL" --problems "$DATA/train.jsonl" --solutions "$OUT/solutions.jsonl" \
  -n "$COMPLETIONS" --temperature 0.7 --max-tokens 192 --parallel 1 --task GSM8K --seed "$SEED" \
  --device "$DEVICE" --out "$OUT/annotated.jsonl"
$B train-prm --data "$OUT/annotated.jsonl" --backbone "$MODEL" --lora-rank 8 --steps 200 \
  --batch-size 8 --lr 2e-4 --seed "$SEED" --device "$DEVICE" --out "$OUT/prm"
$B train-orm --data "$OUT/annotated.jsonl" --backbone "$MODEL" --lora-rank 8 --steps 200 \
  --batch-size 8 --lr 2e-4 --seed "$SEED" --device "$DEVICE" --out "$OUT/orm"
$B verify --generator "$MODEL" --problems "$DATA/test_sample.jsonl" --limit "$TEST" \
  --prm "$OUT/prm" --orm "$OUT/orm" -N 1,2,4,8 --temperature 0.7 --max-tokens 256 \
  --seed "$SEED" --device "$DEVICE" --out "$OUT/verify"
echo "results in $OUT/verify (verify.md, verify.json, verify.svg)"
