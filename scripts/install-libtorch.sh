#!/usr/bin/env bash
# Installs the libtorch that `tch` 0.26 links against (2.13.0, carried by the PyPI torch wheel)
# into a Python venv in a cache outside the checkout, so fresh clones (and CI) reuse it.
#
#   VIDNAS_CACHE   cache folder (default: ~/.cache/vidnas)
#
# Also installs Open MPI and libclang from the OS packages when missing (data-parallel training
# links Open MPI; see the end of this file).
#
# Idempotent: a verified install is left alone. Prints the env lines to source on success.
set -euo pipefail

TORCH_VERSION=2.13.0
cache="${VIDNAS_CACHE:-$HOME/.cache/vidnas}"
venv="$cache/venv-torch-$TORCH_VERSION"
stamp="$venv/.vidnas-verified"

verify() {
  "$venv/bin/python" - <<PY
import torch, os, sys
assert torch.__version__.split("+")[0] == "$TORCH_VERSION", torch.__version__
lib = os.path.join(os.path.dirname(torch.__file__), "lib")
assert os.path.exists(os.path.join(lib, "libtorch_cpu.so")), lib
x = torch.ones(2, 3) @ torch.ones(3, 2)
assert float(x.sum()) == 12.0
PY
}

# 0: installed; a check killed by a signal (status above 128) stops here instead of wiping a
# good install and downloading it again.
status=1
if [[ -f "$stamp" ]]; then status=0; verify 2>/dev/null || status=$?; fi
if (( status > 128 )); then
  echo "vidnas: the install check was interrupted (status $status); run the command again" >&2
  exit "$status"
fi
if (( status == 0 )); then
  echo "vidnas: libtorch $TORCH_VERSION already installed in $venv" >&2
else
  echo "vidnas: installing torch==$TORCH_VERSION (libtorch for tch) into $venv" >&2
  echo "vidnas: this downloads ~4.7 GB once and takes a few minutes" >&2
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  # --progress-bar on: pip shows per-file download progress on a terminal.
  "$venv/bin/python" -m pip install --progress-bar on "torch==$TORCH_VERSION" numpy safetensors
  verify
  touch "$stamp"
  echo "vidnas: libtorch $TORCH_VERSION verified" >&2
fi

# Open MPI: data-parallel training (`mpirun`/`srun`) links it at build time through the `mpi`
# crate, whose bindings are generated with libclang. Installed from the OS packages when
# missing (Debian/Ubuntu names; root or sudo needed). Without them, build a single-process
# vidnas with `cargo build --release -p vidnas-cli --no-default-features`.
mpi_ok() {
  command -v mpicc >/dev/null && command -v mpirun >/dev/null \
    && { ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1 \
         || [[ -n "${LIBCLANG_PATH:-}" ]]; }
}
if mpi_ok; then
  echo "vidnas: Open MPI $(mpirun --version 2>/dev/null | head -1 | grep -o '[0-9][0-9.]*' | head -1) found" >&2
elif command -v apt-get >/dev/null; then
  echo "vidnas: installing Open MPI and libclang (libopenmpi-dev openmpi-bin libclang-dev) for data-parallel training" >&2
  sudo_cmd=""
  [[ "$(id -u)" != 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y --no-install-recommends libopenmpi-dev openmpi-bin libclang-dev >/dev/null \
    || { $sudo_cmd apt-get update >/dev/null && \
         $sudo_cmd apt-get install -y --no-install-recommends libopenmpi-dev openmpi-bin libclang-dev >/dev/null; }
  mpi_ok || { echo "vidnas: Open MPI install failed; see above" >&2; exit 1; }
else
  echo "vidnas: Open MPI (mpicc, mpirun) or libclang not found and no apt-get here: install your" >&2
  echo "vidnas: system's Open MPI development package and libclang, or build without MPI:" >&2
  echo "vidnas:   cargo build --release -p vidnas-cli --no-default-features" >&2
  exit 1
fi
