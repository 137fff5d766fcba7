#!/usr/bin/env bash
# Supernet ranking study on the tiny space: does the weight-sharing supernet rank temporal
# architectures as stand-alone training does? Trains one image model, a fair-sampling and a
# uniform-sampling supernet, and 8 architectures stand-alone with 2 seeds each (all on the same
# spatial weights and the same 16-clip x 4-timestep validation set), then prints Kendall tau of
# each supernet against the stand-alone mean and the seed-to-seed tau (the ceiling).
# Outputs: reports/ranking/. About 25 minutes on 2 CPU cores with the defaults; the committed
# figures used SAMPLINGS=fair SUPER_STEPS=250 ALONE_STEPS=100 (about 12 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
. scripts/env.sh
cargo build --release --bin vidnas
V=target/release/vidnas
SPACE=search-spaces/tiny.json
R=${RANKING_RUNS:-runs/ranking}
SUPER_STEPS=${SUPER_STEPS:-400}
ALONE_STEPS=${ALONE_STEPS:-150}
SAMPLINGS=${SAMPLINGS:-fair uniform}
# Tag for supernets trained with other settings beside the committed ones, e.g. TAG=-600.
TAG=${TAG:-}
SCORING="--validation-clips 16 --validation-timesteps 4"
mkdir -p "$R" reports/ranking
# An interrupted run continues from its checkpoint.
resume_flag() { [ -f "$1/run.json" ] && echo --resume || true; }
[ -f "$R/image/model.safetensors" ] || $V pretrain-image $SPACE --out "$R/image" --steps 500 --batch-size 8 --lr 2e-3 --seed 0
for sampling in $SAMPLINGS; do
  out="$R/supernet-$sampling$TAG"
  [ -f "$out/model.safetensors" ] || \
    $V supernet train $SPACE --image "$R/image" --out "$out" --sampling $sampling \
       --steps $SUPER_STEPS --seed 0 $SCORING $(resume_flag "$out")
done
ARCHS=(
  conv1d-none-none-none-none-none-none-none-none-none
  none-none-none-attn1d-none-none-none-none-none-none
  attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d
  none-conv3d-conv3d-conv3d-conv3d-conv3d-conv3d-conv3d-none-none
  none-none-attn3d-attn3d-attn3d-attn3d-none-none-none-none
  conv1d-attn1d-attn3d-attn1d-attn3d-conv3d-attn1d-conv1d-conv1d-attn1d
  conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d
  none-none-none-none-none-none-none-none-attn1d-attn1d
)
ALONE=()
for i in "${!ARCHS[@]}"; do
  for seed in 0 1; do
    out="$R/alone-$i-seed$seed"
    [ -f "$out/model.safetensors" ] || \
      $V train $SPACE --image "$R/image" --out "$out" --arch "${ARCHS[$i]}" \
         --steps $ALONE_STEPS --seed $seed $SCORING $(resume_flag "$out")
    ALONE+=("$out")
  done
done
for sampling in $SAMPLINGS; do
  $V bench ranking $SPACE --supernet "$R/supernet-$sampling$TAG" --standalone "${ALONE[@]}" \
     --out reports/ranking/ranking-$sampling$TAG.csv | tee reports/ranking/summary-$sampling$TAG.txt
done
