#!/usr/bin/env bash
# What blocks motion: one training lever at a time, motion accuracy per training step.
# Fixed before the runs (reports/motion/README.md reads these numbers):
#   architecture  conv1d-conv1d-attn3d-attn1d-none-none-attn1d-conv1d-conv1d-none (tiny space:
#                 temporal convs at full and half resolution, attention below)
#   start         the shipped image model configs/tiny-image.safetensors, fresh temporal layers
#   training      batch 4, lr 1e-3 constant after 20 warm-up steps, seed 0, 2 threads
#   checkpoints   motion measured after every STEPS_EACH steps up to MAX_STEPS (resumed runs:
#                 with a constant lr, a resumed run equals the uninterrupted one)
#   metric        `vidnas eval quality`: shape / colour / motion accuracy of the classifier on
#                 PROMPTS held-out prompts (10-step DDIM samples at guidance 3, eval seed 0) and
#                 the Fréchet distance of those clips to 256 real ones (32 PCA dimensions)
# Levers (each a run folder under $OUT):
#   temporal      the temporal layers only (today's supernet and stand-alone training)
#   text-path     + the text encoder and the spatial cross-attention train (--text-path)
#   noise-bias    + timesteps drawn with density rising linearly to the noisiest (--noise-bias 2)
#   full          every weight trains (today's `finetune` default)
#   frame-noise   temporal layers only, with half the noise's variance shared by all frames
#                 (--frame-noise-share 0.5, PYoCo's mixed prior; sampling draws the same way).
#                 Added after the first four started, fixed before its own run.
#   zero-snr      text-path with a zero-terminal-SNR schedule (--zero-terminal-snr, Lin et al.
#                 2024): training's noisiest timestep is pure noise, as sampling's start is.
#                 Added after the first five (none moved motion by 600 steps, nor text-path by
#                 1,800), fixed before its own run; hypothesis: SD's schedule leaks each frame's
#                 layout at t = 999, so the model never learns to decide it jointly over frames
#   zero-snr-full every weight trains, with the zero-terminal-SNR schedule (the spatial layers
#                 meet pure noise for the first time and may need to adapt, as Lin et al. did)
# Interrupt and rerun to resume: finished checkpoints are skipped, a run resumes from its last.
set -euo pipefail
cd "$(dirname "$0")/.."
V=${V:-target/release/vidnas}
OUT=${OUT:-runs/motion}
CONFIG=${CONFIG:-runs/demo/configs/tiny-demo.json}   # any exported tiny config: space + text encoder
CLASSIFIER=${CLASSIFIER:-runs/eval/classifier}
ARCH=conv1d-conv1d-attn3d-attn1d-none-none-attn1d-conv1d-conv1d-none
STEPS_EACH=${STEPS_EACH:-200}
MAX_STEPS=${MAX_STEPS:-800}
PROMPTS=${PROMPTS:-64}
LEVERS=${LEVERS:-"temporal text-path noise-bias full frame-noise"}
THREADS=${THREADS:-2}

[ -f "$CONFIG" ] || { echo "no exported tiny config at $CONFIG: run scripts/demo.sh (or set CONFIG)" >&2; exit 1; }
[ -d "$CLASSIFIER" ] || $V eval classifier --space search-spaces/tiny.json --out "$CLASSIFIER" --threads "$THREADS"

flags_of() {
  case "$1" in
    temporal) echo "--freeze-spatial" ;;
    text-path) echo "--freeze-spatial --text-path" ;;
    noise-bias) echo "--freeze-spatial --text-path --noise-bias 2" ;;
    full) echo "" ;;
    frame-noise) echo "--freeze-spatial --frame-noise-share 0.5" ;;
    zero-snr) echo "--freeze-spatial --text-path --zero-terminal-snr" ;;
    zero-snr-full) echo "--zero-terminal-snr" ;;
    *) echo "unknown lever $1" >&2; exit 1 ;;
  esac
}

for lever in $LEVERS; do
  run="$OUT/$lever"
  for ((steps = STEPS_EACH; steps <= MAX_STEPS; steps += STEPS_EACH)); do
    eval_dir="$OUT/eval/$lever-$steps"
    [ -f "$eval_dir/quality.json" ] && continue
    # A marker per finished length: an interrupted run leaves finetune.json asking for more
    # steps than model.safetensors holds, so neither file says how far training got.
    if ! [ -f "$run/trained-$steps" ]; then
      start=$(date +%s)
      # shellcheck disable=SC2046
      $V finetune --config "$CONFIG" --weights configs/tiny-image.safetensors --arch "$ARCH" \
        --out "$run" --steps "$steps" --batch-size 4 --lr 1e-3 --seed 0 --threads "$THREADS" \
        --checkpoint-every "$STEPS_EACH" $(flags_of "$lever") \
        $( [ -f "$run/finetune.json" ] && echo --resume )
      touch "$run/trained-$steps"
      echo "$lever: trained to $steps steps in $(( $(date +%s) - start )) s" | tee -a "$OUT/timing.log"
    fi
    start=$(date +%s)
    $V eval quality --config "$run/config.json" --classifier "$CLASSIFIER" --out "$eval_dir" \
      --generated "$PROMPTS" --real 256 --steps 10 --guidance 3 --seed 0 --threads "$THREADS"
    echo "$lever: eval at $steps steps in $(( $(date +%s) - start )) s" | tee -a "$OUT/timing.log"
  done
done
