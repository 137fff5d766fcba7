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
# Every method trains SUPER_STEPS supernet steps; fewshot then trains each part
# FEWSHOT_STEPS more (split at one slot), rerank fine-tunes each architecture RERANK_STEPS from
# the fair supernet, fair-2x trains twice as long (the training-length control), fair-cosine
# decays the learning rate to a tenth by a cosine (the schedule control).
SUPER_STEPS=${SUPER_STEPS:-400}
FEWSHOT_STEPS=${FEWSHOT_STEPS:-80}
RERANK_STEPS=${RERANK_STEPS:-20}
# Probe architectures for the few-shot slot criterion: each costs ~45 supernet scores (~2 min).
FEWSHOT_PROBES=${FEWSHOT_PROBES:-2}
METHODS=${METHODS:-fair inplace fewshot rerank fair-cosine fair-2x sandwich}
STAGES=${STAGES:-standalone supernets}
# Judge against the stand-alone scores of a committed CSV instead of the 60 runs (same image
# model: its command below is deterministic), writing summary-$TAG.* and ranking-$TAG.csv:
#   STANDALONE_CSV=reports/ranking/ranking.csv TAG=sandwich METHODS="fair sandwich" scripts/ranking-study.sh
STANDALONE_CSV=${STANDALONE_CSV:-}
TAG=${TAG:+-$TAG}
[ -z "$STANDALONE_CSV" ] || STAGES=supernets
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
# About 1.1 s per single-path step of batch 4 on 2 cores (3 paths: sandwich, inplace).
log "expected wall time on 2 CPU cores: image ~4 min, stand-alone ~$(( ${#ARCHS[@]} * 2 * ALONE_STEPS * 11 / 600 )) min; supernets: fair ~$(( SUPER_STEPS * 11 / 600 )) min, fewshot ~$(( 5 * FEWSHOT_STEPS * 11 / 600 + 2 * FEWSHOT_PROBES )) min, rerank ~$(( ${#ARCHS[@]} * (RERANK_STEPS + 5) * 11 / 600 )) min, inplace and sandwich ~$(( SUPER_STEPS * 33 / 600 )) min each, fair-2x ~$(( SUPER_STEPS * 22 / 600 )) min, fair-cosine ~$(( SUPER_STEPS * 11 / 600 )) min"

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

# Wall time of each method (seconds of this invocation; a resumed method is marked).
TIMES="$OUT/timings.csv"
[ -f "$TIMES" ] || echo "method,steps,wall_s,note" > "$TIMES"
record() { # method steps start_s resumed
  grep -q "^$1," "$TIMES" || echo "$1,$2,$(( $(date +%s) - $3 )),$4" >> "$TIMES"
}
supernet() { # name sampling steps [extra flags]
  local out="$R/supernet-$1" start note=""
  [ -f "$out/model.safetensors" ] && return 0
  [ -f "$out/run.json" ] && note=resumed
  log "supernet $1 ($2, $3 steps ${*:4})"
  start=$(date +%s)
  $V supernet train $SPACE --image "$R/image" --out "$out" --sampling $2 \
     --steps $3 --seed 0 $SCORING "${@:4}" $(resume_flag "$out") >/dev/null
  record "$1" "$3" "$start" "$note"
}
PROXIES=()
for method in $METHODS; do
  case $method in
    fair|inplace|sandwich)
      supernet $method $method $SUPER_STEPS
      PROXIES+=(--supernet "$method=$R/supernet-$method") ;;
    fair-2x)
      supernet fair-2x fair $(( 2 * SUPER_STEPS ))
      PROXIES+=(--supernet "fair-2x=$R/supernet-fair-2x") ;;
    fair-cosine)
      supernet fair-cosine fair $SUPER_STEPS --lr-decay cosine
      PROXIES+=(--supernet "fair-cosine=$R/supernet-fair-cosine") ;;
    fewshot)
      supernet fair fair $SUPER_STEPS
      out="$R/fewshot"
      if [ ! -f "$out/done" ]; then
        log "few-shot split of supernet-fair, $FEWSHOT_STEPS steps per part"
        start=$(date +%s)
        $V supernet split $SPACE --supernet "$R/supernet-fair" --out "$out" --split-slots 1 --probes $FEWSHOT_PROBES \
           --steps-per-part $FEWSHOT_STEPS $( [ -f "$out/split.json" ] && echo --resume ) >/dev/null
        parts=$(python3 -c "import json; print(len(json.load(open('$out/split.json'))['parts']))")
        record fewshot "$SUPER_STEPS+${parts}x$FEWSHOT_STEPS" "$start" "after fair"
        touch "$out/done"
      fi
      PROXIES+=(--supernet "fewshot=$out") ;;
    rerank)
      supernet fair fair $SUPER_STEPS
      start=$(date +%s)
      for i in "${!ARCHS[@]}"; do
        out="$R/rerank-fair/$i"
        [ -f "$out/model.safetensors" ] || \
          $V train $SPACE --image "$R/image" --out "$out" --arch "${ARCHS[$i]}" --init "$R/supernet-fair" \
             --steps $RERANK_STEPS --warmup-steps 0 --seed 0 $SCORING $(resume_flag "$out") >/dev/null
      done
      record rerank "$SUPER_STEPS+${#ARCHS[@]}x$RERANK_STEPS" "$start" "after fair"
      PROXIES+=(--rerank "rerank=$R/rerank-fair") ;;
    *) echo "unknown method $method" >&2; exit 2 ;;
  esac
done
log "judging ${#PROXIES[@]} proxies"
if [ -n "$STANDALONE_CSV" ]; then
  REFERENCE=(--standalone-csv "$STANDALONE_CSV")
else
  REFERENCE=(--standalone "${ALONE[@]}")
fi
$V bench ranking $SPACE "${PROXIES[@]}" "${REFERENCE[@]}" $BAND \
   --out $OUT/ranking$TAG.csv --summary $OUT/summary$TAG.json | tee $OUT/summary$TAG.txt
python3 scripts/ranking_table.py $OUT/summary$TAG.json "$TIMES" > $OUT/methods$TAG.md
cat $OUT/methods$TAG.md
