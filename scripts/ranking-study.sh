#!/usr/bin/env bash
# Supernet ranking study on the tiny space: does the weight-sharing supernet rank temporal
# architectures as stand-alone training does? Trains one image model, a fair-sampling and a
# uniform-sampling supernet, and 7 architectures stand-alone with 2 seeds each (all on the same
# spatial weights and the same 16-clip x 4-timestep validation set), then prints Kendall tau of
# each supernet against the stand-alone mean and the seed-to-seed tau (the ceiling).
# Outputs: reports/ranking/. About 25 minutes on 2 CPU cores.
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
SCORING="--validation-clips 16 --validation-timesteps 4"
mkdir -p "$R" reports/ranking
[ -f "$R/image/model.safetensors" ] || $V pretrain-image $SPACE --out "$R/image" --steps 500 --batch-size 8 --lr 2e-3 --seed 0
for sampling in fair uniform; do
  [ -f "$R/supernet-$sampling/model.safetensors" ] || \
    $V supernet train $SPACE --image "$R/image" --out "$R/supernet-$sampling" --sampling $sampling \
       --steps $SUPER_STEPS --seed 0 $SCORING
done
ARCHS=(
  conv1d-none-none-none-none-none-none-none-none-none
  none-none-none-attn1d-none-none-none-none-none-none
  attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d
  none-conv3d-conv3d-conv3d-conv3d-conv3d-conv3d-conv3d-none-none
  none-none-attn3d-attn3d-attn3d-attn3d-none-none-none-none
  conv1d-attn1d-attn3d-attn1d-attn3d-conv3d-attn1d-conv1d-conv1d-attn1d
  conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d
)
ALONE=()
for i in "${!ARCHS[@]}"; do
  for seed in 0 1; do
    out="$R/alone-$i-seed$seed"
    [ -f "$out/model.safetensors" ] || \
      $V supernet train $SPACE --image "$R/image" --out "$out" --arch "${ARCHS[$i]}" \
         --steps $ALONE_STEPS --seed $seed $SCORING
    ALONE+=("$out")
  done
done
for sampling in fair uniform; do
  $V bench ranking $SPACE --supernet "$R/supernet-$sampling" --standalone "${ALONE[@]}" \
     --out reports/ranking/ranking-$sampling.csv | tee reports/ranking/summary-$sampling.txt
done
