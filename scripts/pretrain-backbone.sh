#!/usr/bin/env bash
# Pretrains the tiny space's image model (spatial UNet + learned text encoder) that the demo
# starts from, as SnapGen-V starts from a pretrained image model, and ships it as
# configs/tiny-image.safetensors. Deterministic: the same command gives the same bytes.
# About 10 min on 2 CPU cores (0.2 s a step of batch 8). Interrupt and rerun to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
V=${V:-target/release/vidnas}
SPACE=${SPACE:-search-spaces/tiny.json}
STEPS=${STEPS:-3000}
OUT=${OUT:-runs/backbone-tiny}
name=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['name'])" "$SPACE")
echo "pretraining the $name image model: $STEPS steps of batch 8 (expect ~$(( STEPS / 300 )) min on 2 cores)"
$V pretrain-image "$SPACE" --out "$OUT" --steps "$STEPS" --batch-size 8 --lr 2e-3 \
  --lr-decay cosine --seed 0 --validation-clips 8 $( [ -f "$OUT/run.json" ] && echo --resume )
cp "$OUT/model.safetensors" "configs/$name-image.safetensors.tmp"
mv "configs/$name-image.safetensors.tmp" "configs/$name-image.safetensors"
sha256sum "configs/$name-image.safetensors"
