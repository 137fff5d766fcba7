#!/usr/bin/env bash
# The main job end to end on the tiny space: generate data, profile latency, pretrain the image
# model, train the supernet, search, report and export. Installs libtorch once (cached).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
. scripts/env.sh
cargo build --release --bin vidnas
exec target/release/vidnas demo "$@"
