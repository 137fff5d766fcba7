#!/usr/bin/env bash
# Installs ExecuTorch 1.5.1 (the deployment runtime `vidnas latency profile --runtime
# executorch-xnnpack` and `latency validate --runtime executorch-xnnpack` time) into its own
# venv in the cache, pinned together with torch 2.13.0, plus diffusers for the PyTorch twin
# (python/vidnas_twin). The torch wheel is not downloaded a second time: the venv sees the
# libtorch venv's packages (scripts/install-libtorch.sh, run first) through a .pth file, and pip
# checks the pin `torch==2.13.0` against them.
#
#   VIDNAS_CACHE   cache folder (default: ~/.cache/vidnas)
#
# Idempotent: a verified install is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

EXECUTORCH_VERSION=1.5.1
TORCH_VERSION=2.13.0
DIFFUSERS_VERSION=0.42.1
cache="${VIDNAS_CACHE:-$HOME/.cache/vidnas}"
torch_venv="$cache/venv-torch-$TORCH_VERSION"
venv="$cache/venv-executorch-$EXECUTORCH_VERSION"
stamp="$venv/.vidnas-verified"

verify() {
  "$venv/bin/python" - <<PY
import importlib.metadata as md, torch
assert torch.__version__.split("+")[0] == "$TORCH_VERSION", torch.__version__
assert md.version("executorch") == "$EXECUTORCH_VERSION", md.version("executorch")
from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
from executorch.exir import to_edge_transform_and_lower
from executorch.runtime import Runtime
import diffusers
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
  echo "vidnas: ExecuTorch $EXECUTORCH_VERSION already installed in $venv" >&2
  exit 0
fi
scripts/install-libtorch.sh >/dev/null
echo "vidnas: installing executorch==$EXECUTORCH_VERSION (with torch==$TORCH_VERSION, diffusers==$DIFFUSERS_VERSION) into $venv" >&2
rm -rf "$venv"
"$torch_venv/bin/python" -m venv "$venv"
site() { "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
site "$torch_venv" > "$(site "$venv")/vidnas-torch-$TORCH_VERSION.pth"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --progress-bar on "executorch==$EXECUTORCH_VERSION" \
  "torch==$TORCH_VERSION" "diffusers==$DIFFUSERS_VERSION" safetensors numpy
verify
touch "$stamp"
echo "vidnas: ExecuTorch $EXECUTORCH_VERSION verified" >&2
