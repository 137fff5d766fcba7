#!/usr/bin/env bash
# Latency tables on the deployment runtime (ExecuTorch 1.5.1, XNNPACK delegate) for every
# shipped space, and the validation of the tiny space's table on whole networks:
#
#   scripts/executorch-study.sh                 # everything missing (resumes per step)
#   STEPS="tiny validate" scripts/executorch-study.sh
#
# Steps: tiny (latency-tables/tiny-cpu-2threads-executorch.json), validate (reports/latency/
# executorch/: SAMPLES random networks exported whole, half fit the correction), bk-sdm-tiny and
# snapgen-v (at 4 frames, scaled to 16: latency-tables/<space>-cpu-scaled-executorch.json),
# snapgen-v-libtorch (latency-tables/snapgen-v-cpu-scaled.json, the libtorch table that space
# lacked). The timing steps need a quiet machine: run nothing else beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
scripts/install-executorch.sh
. scripts/env.sh
[ -n "${VIDNAS_BIN:-}" ] || cargo build --release --bin vidnas
V=${VIDNAS_BIN:-target/release/vidnas}
STEPS=${STEPS:-tiny validate snapgen-v-libtorch snapgen-v bk-sdm-tiny}
SAMPLES=${SAMPLES:-24}
OUT=reports/latency/executorch
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*"; }
want() { [[ " $STEPS " == *" $1 "* ]]; }
# Exporting a whole tiny network through the XNNPACK partitioner takes ~75 s of one core here
# (one export per core at a time): the validation's cost is its network count.
CORES=$(nproc)
log "expected wall time on $CORES CPU cores: tiny ~2 min, validate ~$(( (SAMPLES + 1) * 80 / 60 / CORES + SAMPLES / 10 + 2 )) min, snapgen-v (libtorch) ~2 min, snapgen-v and bk-sdm-tiny (ExecuTorch) ~4 min each"

CPU="2-core x86_64 CI machine"
if want tiny && [ ! -f latency-tables/tiny-cpu-2threads-executorch.json ]; then
  log "tiny: every signature on ExecuTorch (XNNPACK), 25 repeats, 2 threads"
  $V latency profile search-spaces/tiny.json --runtime executorch-xnnpack --threads 2 \
     --repeats 25 --out latency-tables/tiny-cpu-2threads-executorch.json \
     --device-name "$CPU (ExecuTorch 1.5.1, XNNPACK)"
fi
if want validate && [ ! -f "$OUT/validation.json" ]; then
  log "validate: $SAMPLES whole networks exported to ExecuTorch, timed in 8 interleaved rounds"
  $V latency validate search-spaces/tiny.json --table latency-tables/tiny-cpu-2threads-executorch.json \
     --samples "$SAMPLES" --seed 0 --out "$OUT" --write-correction
fi
if want snapgen-v-libtorch && [ ! -f latency-tables/snapgen-v-cpu-scaled.json ]; then
  log "snapgen-v on libtorch at 4 frames, scaled to 16"
  $V latency profile search-spaces/snapgen-v.json --out latency-tables/snapgen-v-cpu-scaled.json \
     --text-tokens 77 --threads 2 --repeats 5 --warmup 1 --reduce-frames 4 \
     --device-name "$CPU (libtorch CPU); scaled from 4 frames"
fi
for space in snapgen-v bk-sdm-tiny; do
  table=latency-tables/$space-cpu-scaled-executorch.json
  if want $space && [ ! -f "$table" ]; then
    log "$space on ExecuTorch at 4 frames, scaled to 16"
    $V latency profile search-spaces/$space.json --runtime executorch-xnnpack --out "$table" \
       --text-tokens 77 --threads 2 --repeats 5 --warmup 1 --reduce-frames 4 \
       --device-name "$CPU (ExecuTorch 1.5.1, XNNPACK); scaled from 4 frames"
  fi
done
log "done"
