#!/usr/bin/env bash
# Latency of the tiny-plus space (tiny + conv2plus1d + attn3d_stride) on both runtimes:
#
#   scripts/tiny-plus-latency.sh                       # every step still missing (resumes)
#   STEPS="tables libtorch" scripts/tiny-plus-latency.sh
#
# Steps:
#   tables     the shipped tables latency-tables/tiny-plus-cpu-2threads{,-executorch}.json gain
#              the signatures they lack through a resumed profile: entries already measured are
#              kept, so old architectures' raw predictions stay byte-identical
#   libtorch   reports/latency/tiny-plus/libtorch/: a fresh table profiled at once before
#              SAMPLES random networks are timed whole (every other one fits the correction, the
#              rest judge it): docs/results.md's protocol, profile and fit in one sitting
#   executorch the same on ExecuTorch 1.5.1 (XNNPACK): each network exported whole to a .pte
#              (~75 s of one core each, cached in $VIDNAS_CACHE/executorch-1.5.1-programs/, so an
#              interrupted run resumes), then timed
# Fixed before the runs: SAMPLES=100 (50 held out), seed 0, 8 rounds of 3 repeats, 2 threads,
# bar: >= 49 of 50 held-out networks within ±10 % after the correction.
# The timing needs a quiet machine: run nothing else beside it (exports may share the cores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
scripts/install-executorch.sh
. scripts/env.sh
[ -n "${VIDNAS_BIN:-}" ] || cargo build --release --bin vidnas
V=${VIDNAS_BIN:-target/release/vidnas}
STEPS=${STEPS:-tables libtorch executorch}
SAMPLES=${SAMPLES:-100}
SPACE=search-spaces/tiny-plus.json
OUT=reports/latency/tiny-plus
CPU="2-core x86_64 CI machine"
log() { echo "[$(date +%H:%M:%S)] $*"; }
want() { [[ " $STEPS " == *" $1 "* ]]; }
log "expected wall time on 2 CPU cores: tables ~3 min, libtorch ~$(( SAMPLES * 8 * 3 / 240 + 2 )) min, executorch ~$(( (SAMPLES + 1) * 80 / 60 / 2 + SAMPLES / 10 + 2 )) min"

if want tables; then
  log "tables: the signatures the shipped tables lack (libtorch, then ExecuTorch)"
  $V latency profile "$SPACE" --out latency-tables/tiny-plus-cpu-2threads.json \
    --threads 2 --repeats 25 --warmup 3 --device-name "$CPU (libtorch CPU)"
  $V latency profile "$SPACE" --out latency-tables/tiny-plus-cpu-2threads-executorch.json \
    --runtime executorch-xnnpack --threads 2 --repeats 25 --warmup 3 \
    --device-name "$CPU (ExecuTorch 1.5.1, XNNPACK)"
fi
if want libtorch && [ ! -f "$OUT/libtorch/validation.json" ]; then
  mkdir -p "$OUT/libtorch"
  log "libtorch: a fresh table, then $SAMPLES whole networks"
  rm -f "$OUT/libtorch/table.json"
  $V latency profile "$SPACE" --out "$OUT/libtorch/table.json" --threads 2 --repeats 25 --warmup 3 \
    --device-name "$CPU (libtorch CPU)"
  $V latency validate "$SPACE" --table "$OUT/libtorch/table.json" --samples "$SAMPLES" --seed 0 \
    --threads 2 --out "$OUT/libtorch" --write-correction | tee "$OUT/libtorch/summary.txt"
fi
if want executorch && [ ! -f "$OUT/executorch/validation.json" ]; then
  mkdir -p "$OUT/executorch"
  log "executorch: a fresh table, then $SAMPLES whole networks exported and timed"
  rm -f "$OUT/executorch/table.json"
  $V latency profile "$SPACE" --out "$OUT/executorch/table.json" --runtime executorch-xnnpack \
    --threads 2 --repeats 25 --warmup 3 --device-name "$CPU (ExecuTorch 1.5.1, XNNPACK)"
  $V latency validate "$SPACE" --table "$OUT/executorch/table.json" --samples "$SAMPLES" --seed 0 \
    --threads 2 --out "$OUT/executorch" --write-correction | tee "$OUT/executorch/summary.txt"
fi
log "done"
