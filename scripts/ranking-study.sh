#!/usr/bin/env bash
# Supernet ranking study on the tiny space: does the weight-sharing supernet rank temporal
# architectures as stand-alone training does, overall and where the search decides (inside one
# latency band)? One image model; 30 architectures trained stand-alone with 2 seeds each from its
# weights (14 drawn inside ±5% of the committed demo knee's predicted latency on
# latency-tables/tiny-cpu-2threads.json, 8 hand-placed to span the space, 8 drawn uniformly);
# then every supernet-training method in METHODS, each judged by `vidnas bench ranking` against
# the stand-alone mean (Kendall τ and Spearman ρ with 95% bootstrap intervals, overall and in
# the band) beside the stand-alone seed-to-seed value (the ceiling).
#
# Usage: scripts/ranking-study.sh            (everything; resumes where it stopped)
#        STAGES=standalone scripts/ranking-study.sh   (only the stand-alone references)
# Outputs: reports/ranking/ (summary-<method>.txt, ranking-<method>.csv, methods.csv).
# Runs one libtorch job at a time; nothing else should run beside it if wall times matter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
. scripts/env.sh
cargo build --release --bin vidnas
# VIDNAS_BIN lets a long study run on a frozen copy of the binary while the tree changes.
V=${VIDNAS_BIN:-target/release/vidnas}
SPACE=search-spaces/tiny.json
TABLE=latency-tables/tiny-cpu-2threads.json
# The committed demo's knee (reports/demo/index.md), predicted on $TABLE.
KNEE=conv1d-conv1d-attn3d-attn1d-none-none-attn1d-conv1d-conv1d-none
R=${RANKING_RUNS:-runs/ranking}
OUT=reports/ranking
ALONE_STEPS=${ALONE_STEPS:-100}
SUPER_STEPS=${SUPER_STEPS:-600}
METHODS=${METHODS:-fair sandwich inplace fewshot rerank fair-1200}
STAGES=${STAGES:-standalone supernets}
SCORING="--validation-clips 16 --validation-timesteps 4"
mkdir -p "$R" "$OUT"
resume_flag() { [ -f "$1/run.json" ] && echo --resume || true; }
log() { echo "[$(date +%H:%M:%S)] $*"; }

band_ms=$($V latency predict $SPACE --table $TABLE --arch $KNEE --json |
  python3 -c 'import json,sys; print(round(json.load(sys.stdin)["latency_ms"], 2))')
BAND="--table $TABLE --band-ms $band_ms --band-pct 5"
archs_file="$R/archs.txt"
if [ ! -f "$archs_file" ]; then
  {
    $V space sample $SPACE -n 14 --seed 1 --table $TABLE --latency-ms "$band_ms" --within-pct 5
    $V space sample $SPACE -n 8 --seed 2
  } | awk '{print $2}' > "$archs_file.tmp"
  # Hand-placed to span the space: one layer, the bottleneck only, everywhere, 3-D everywhere,
  # 3-D attention at low resolution, a mix, conv everywhere, attention at the output only.
  cat >> "$archs_file.tmp" <<EOF
conv1d-none-none-none-none-none-none-none-none-none
none-none-none-attn1d-none-none-none-none-none-none
attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d-attn1d
none-conv3d-conv3d-conv3d-conv3d-conv3d-conv3d-conv3d-none-none
none-none-attn3d-attn3d-attn3d-attn3d-none-none-none-none
conv1d-attn1d-attn3d-attn1d-attn3d-conv3d-attn1d-conv1d-conv1d-attn1d
conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d-conv1d
none-none-none-none-none-none-none-none-attn1d-attn1d
EOF
  mv "$archs_file.tmp" "$archs_file"
fi
mapfile -t ARCHS < "$archs_file"
log "band: $band_ms ms ± 5% on $TABLE; ${#ARCHS[@]} architectures x 2 seeds x $ALONE_STEPS steps"
log "expected wall time on 2 CPU cores: image ~3 min, stand-alone ~$(( ${#ARCHS[@]} * 2 * ALONE_STEPS / 200 )) min, each supernet method ~$(( SUPER_STEPS / 60 + 2 )) min (rerank and fair-1200 about twice that)"

[ -f "$R/image/model.safetensors" ] || \
  $V pretrain-image $SPACE --out "$R/image" --steps 500 --batch-size 8 --lr 2e-3 --seed 0 $(resume_flag "$R/image")

ALONE=()
for i in "${!ARCHS[@]}"; do
  for seed in 0 1; do
    out="$R/alone-$i-seed$seed"
    if [[ " $STAGES " == *" standalone "* ]] && [ ! -f "$out/model.safetensors" ]; then
      log "stand-alone $i seed $seed: ${ARCHS[$i]}"
      $V train $SPACE --image "$R/image" --out "$out" --arch "${ARCHS[$i]}" \
         --steps $ALONE_STEPS --seed $seed $SCORING $(resume_flag "$out") >/dev/null
    fi
    ALONE+=("$out")
  done
done
[[ " $STAGES " == *" supernets "* ]] || exit 0
