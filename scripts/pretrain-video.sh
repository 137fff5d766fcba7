#!/usr/bin/env bash
# Makes the space's video supernet, configs/<space>-video.safetensors: the shipped image model
# (configs/<space>-image.safetensors, scripts/pretrain-backbone.sh) inflated with every op of
# every temporal slot and trained on video by fair path sampling, so the whole space starts
# from weights that have seen motion (as OFA ships its trained supernet). The demo's supernet
# stage, `vidnas supernet train --init`, and `vidnas finetune --arch … --weights` start from it.
# Deterministic: the same command gives the same bytes. Interrupt and rerun to resume.
#
# The training levers are the ones reports/motion/README.md found to move motion accuracy;
# change them there first.
set -euo pipefail
cd "$(dirname "$0")/.."
V=${V:-target/release/vidnas}
SPACE=${SPACE:-search-spaces/tiny.json}
STEPS=${STEPS:-1500}
THREADS=${THREADS:-2}
LEVERS=${LEVERS:-"--text-path"}
name=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['name'])" "$SPACE")
OUT=${OUT:-runs/video-$name}
IMAGE_MODEL=configs/$name-image.safetensors
[ -f "$IMAGE_MODEL" ] || { echo "no $IMAGE_MODEL: make it first with scripts/pretrain-backbone.sh" >&2; exit 1; }

resume() { [ -f "$1/run.json" ] && echo --resume || true; }
start=$(date +%s)
# Stage 1 is the shipped image model itself (0 more steps).
$V pretrain-image "$SPACE" --out "$OUT/image" --init-unet "$IMAGE_MODEL" --steps 0 --seed 0 \
  --threads "$THREADS" $(resume "$OUT/image")
echo "training the $name video supernet: $STEPS steps of batch 4 with $LEVERS"
# shellcheck disable=SC2086
$V supernet train "$SPACE" --image "$OUT/image" --out "$OUT/supernet" --steps "$STEPS" \
  --batch-size 4 --lr 1e-3 --seed 0 --sampling fair --threads "$THREADS" $LEVERS \
  $(resume "$OUT/supernet")
cp "$OUT/supernet/model.safetensors" "configs/$name-video.safetensors.tmp"
mv "configs/$name-video.safetensors.tmp" "configs/$name-video.safetensors"
echo "wall time of this invocation: $(( $(date +%s) - start )) s on $THREADS threads"
sha256sum "configs/$name-video.safetensors"
