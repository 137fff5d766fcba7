#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs libtorch once (cached), then tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
. scripts/env.sh
# The mpirun tests launch the example binary, which only `cargo build --examples` writes.
cargo build --workspace --examples
cargo test --workspace --all-targets "$@"
