# Source this file: points torch-sys at the libtorch installed by scripts/install-libtorch.sh.
#   . scripts/env.sh
# Linking crates bake $LIBTORCH/lib into their binaries' rpath (see crates/*/build.rs), so no
# LD_LIBRARY_PATH is needed to run `vidnas` or the test binaries.
export VIDNAS_CACHE="${VIDNAS_CACHE:-$HOME/.cache/vidnas}"
_vidnas_venv="$VIDNAS_CACHE/venv-torch-2.13.0"
export LIBTORCH="$("$_vidnas_venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
export LIBTORCH_CXX11_ABI=1
export PATH="$_vidnas_venv/bin:$PATH"
unset _vidnas_venv
