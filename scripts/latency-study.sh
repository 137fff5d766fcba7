#!/usr/bin/env bash
# Latency-table accuracy study on this machine: profile the tiny space, then at once time
# SAMPLES random whole networks against the predictions (interleaved rounds, reference
# re-timing; the correction fitted on every other network and judged on the rest, then fitted
# on all and stored in the table with its prediction interval).
# Run on a quiet machine: other CPU load shows up as noise (the report prints the noise floor).
# Usage: scripts/latency-study.sh
#        SAMPLES=100 ROUNDS=16 TABLE=reports/latency/same-host/table.json OUT=reports/latency/same-host scripts/latency-study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
. scripts/env.sh
[ -n "${VIDNAS_BIN:-}" ] || cargo build --release --bin vidnas
V=${VIDNAS_BIN:-target/release/vidnas}
TABLE=${TABLE:-latency-tables/tiny-cpu-2threads.json}
OUT=${OUT:-reports/latency}
SAMPLES=${SAMPLES:-50}
ROUNDS=${ROUNDS:-8}
REPEATS=${REPEATS:-3}
mkdir -p "$OUT" "$(dirname "$TABLE")"
echo "expected wall time on 2 CPU cores: profile ~1 min, $SAMPLES networks ~$(( SAMPLES * ROUNDS * REPEATS / 240 + 1 )) min"
rm -f "$TABLE"
$V latency profile search-spaces/tiny.json --out "$TABLE" --threads 2 --repeats 25 --warmup 3 \
  --device-name "2-core x86_64 CI machine (libtorch CPU)"
$V latency validate search-spaces/tiny.json --table "$TABLE" --samples "$SAMPLES" --seed 0 --rounds "$ROUNDS" \
  --repeats "$REPEATS" --threads 2 --out "$OUT" --write-correction | tee "$OUT/summary.txt"
