#!/usr/bin/env bash
# Few-step generation on the tiny space, from the demo's exported architecture: fine-tune the
# 25-step teacher (every weight, retrained for v-prediction), distil a 4-step student, train the
# prompt-faithfulness classifier and evaluate student vs 4-step teacher vs 25-step teacher.
# Outputs: reports/fewstep/ (the distillation run's own files) and reports/eval/.
# Every stage resumes after an interruption. About 2 hours on 2 CPU cores with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
. scripts/env.sh
cargo build --release --bin vidnas
V=target/release/vidnas
R=${FEWSTEP_RUNS:-runs}
CONFIG=${CONFIG:-$R/demo/configs/tiny-demo.json}
TEACHER_STEPS=${TEACHER_STEPS:-1800}
DISTILL_STEPS=${DISTILL_STEPS:-400}
POOL=${POOL:-160}
THREADS=${THREADS:-2}
# An interrupted run continues from its checkpoint.
resume_flag() { [ -f "$1/$2" ] && echo --resume || true; }
[ -f "$CONFIG" ] || $V demo --out "$R/demo"
[ -f "$R/teacher-v/config.json" ] || \
  $V finetune --config "$CONFIG" --out "$R/teacher-v" --prediction v --steps "$TEACHER_STEPS" \
     --checkpoint-every 100 --threads "$THREADS" $(resume_flag "$R/teacher-v" finetune.json)
[ -f "$R/student/eval.json" ] || \
  $V distill --config "$R/teacher-v/config.json" --out "$R/student" --student-steps 4 \
     --steps "$DISTILL_STEPS" --pool-size "$POOL" --eval-entries 8 --threads "$THREADS" \
     ${DISTILL_FLAGS:-} $(resume_flag "$R/student" distill.json)
[ -f "$R/eval/classifier/classifier.json" ] || \
  $V eval classifier --space search-spaces/tiny.json --out "$R/eval/classifier" --threads "$THREADS"
$V eval run --config "$R/teacher-v/config.json" --teacher "$R/teacher-v/model.safetensors" \
   --student "$R/student/model.safetensors" --classifier "$R/eval/classifier" --prompts 32 \
   --out reports/eval --threads "$THREADS"
mkdir -p reports/fewstep
cp "$R/teacher-v/finetune.json" "$R/student/distill.json" reports/fewstep/
cp "$R/student/eval.json" reports/fewstep/distill-eval.json
cp "$R/student/eval.png" reports/fewstep/distill-eval.png
