#!/usr/bin/env bash
# Latency-table accuracy study on this machine: profile the tiny space, then time 50 random
# whole networks against the predictions (interleaved rounds, reference re-timing, held-out
# correction). Outputs: latency-tables/tiny-cpu-2threads.json and reports/latency/.
# Run on a quiet machine: other CPU load shows up as noise (the report prints the noise floor).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
. scripts/env.sh
cargo build --release --bin vidnas
V=target/release/vidnas
TABLE=latency-tables/tiny-cpu-2threads.json
mkdir -p reports/latency
$V latency profile search-spaces/tiny.json --out "$TABLE" --threads 2 --repeats 25 --warmup 3 \
  --device-name "2-core x86_64 CI machine (libtorch CPU)"
$V latency validate search-spaces/tiny.json --table "$TABLE" --samples 50 --seed 0 --rounds 8 \
  --repeats 3 --threads 2 --out reports/latency --write-correction | tee reports/latency/summary.txt
