#!/usr/bin/env bash
# Installs the libtorch that `tch` 0.26 links against (2.13.0, carried by the PyPI torch wheel)
# into a Python venv in a cache outside the checkout, so fresh clones (and CI) reuse it.
#
#   VIDNAS_CACHE   cache folder (default: ~/.cache/vidnas)
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

if [[ -f "$stamp" ]] && verify 2>/dev/null; then
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
