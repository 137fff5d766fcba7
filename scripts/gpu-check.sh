#!/usr/bin/env bash
# Checks vidnas on a machine with NVIDIA GPUs, printing each check as it passes:
#   1. the whole demo (profile on the CPU, train, score, search, export) with --device cuda;
#   2. device independence: the supernet scores the same on cuda and on the CPU, and a run
#      trained on cuda resumes on the CPU;
#   3. --precision bf16 (autocast) trains with finite losses and records itself in run.json;
#   4. sampling the exported model on cuda;
#   5. with 2 or more GPUs: 2-rank NCCL data-parallel supernet training (mpirun) against one
#      GPU with the same global batch (weights within 1e-4 after 10 steps).
# Under 5 minutes after the build on one recent GPU; every other test runs on CPU-only machines.
#
#   scripts/gpu-check.sh [WORK_DIR]      (default: a temporary folder, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-libtorch.sh
. scripts/env.sh
cargo build --release --bin vidnas
bin="$PWD/target/release/vidnas"
work="${1:-$(mktemp -d)}"
[[ -z "${1:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
start=$(date +%s)
ok() { echo "ok ($(( $(date +%s) - start )) s): $*"; }
json() { python -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }

ngpu=$(python -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)")
if [[ "$ngpu" -lt 1 ]]; then
  echo "gpu-check: torch sees no CUDA GPU here (driver missing, or a CPU-only torch); nothing to check" >&2
  exit 1
fi
echo "gpu-check: $ngpu GPU(s): $(python -c "import torch; print(', '.join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())))")"

# 1. The demo on cuda (fewer steps than the CPU default: this checks mechanics, not quality).
"$bin" demo --device cuda --out "$work/demo" --image-steps 200 --supernet-steps 100 \
  --population 12 --generations 3 >"$work/demo.log" 2>&1 || { tail -30 "$work/demo.log"; exit 1; }
device=$(json "$work/demo/supernet/run.json" "d['compute']['device']")
[[ "$device" == cuda:0 ]] || { echo "supernet run.json records device $device, not cuda:0" >&2; exit 1; }
config=$(ls "$work"/demo/configs/*.json | head -1)
arch=$(json "$config" "d['arch']")
ok "demo on cuda: trained on $device, exported $arch"

# 2. Scores do not depend on the device; a cuda run resumes on the CPU.
score_on() { "$bin" supernet score "$work/demo/supernet" --arch "$arch" --device "$1" --json \
  | python -c "import json,sys; print(json.load(sys.stdin)[0]['score'])"; }
s_gpu=$(score_on cuda); s_cpu=$(score_on cpu)
python - "$s_gpu" "$s_cpu" <<'PY'
import sys
g, c = map(float, sys.argv[1:])
assert abs(g - c) <= 1e-3 * max(abs(c), 1e-6), f"score on cuda {g} vs cpu {c}"
PY
ok "supernet score on cuda $s_gpu, on cpu $s_cpu"
"$bin" supernet train search-spaces/tiny.json --image "$work/demo/image" --out "$work/moved" \
  --steps 4 --checkpoint-every 2 --device cuda >/dev/null 2>&1
"$bin" supernet train search-spaces/tiny.json --image "$work/demo/image" --out "$work/moved" \
  --steps 6 --checkpoint-every 2 --device cpu --resume >/dev/null 2>&1
[[ "$(json "$work/moved/run.json" "d['compute']['device']")" == cpu ]]
ok "a run trained 4 steps on cuda resumed to 6 on the CPU"

# 3. bf16 autocast.
"$bin" supernet train search-spaces/tiny.json --image "$work/demo/image" --out "$work/bf16" \
  --steps 20 --device cuda --precision bf16 >/dev/null 2>&1
[[ "$(json "$work/bf16/run.json" "d['compute']['precision']")" == bf16 ]]
"$bin" supernet score "$work/bf16" --arch "$arch" --device cuda >/dev/null
ok "--precision bf16 trained 20 steps (finite losses) and scores"

# 4. Sampling on cuda.
"$bin" sample --config "$config" --prompt "a red square moving left fast" --device cuda \
  --out "$work/sample.gif" >/dev/null
ok "sampled $work/sample.gif on cuda"

# 5. NCCL data parallel.
if [[ "$ngpu" -ge 2 ]]; then
  args=(supernet train search-spaces/tiny.json --image "$work/demo/image" --steps 10 --batch-size 4
        --seed 3 --sampling sandwich --device cuda)
  "$bin" "${args[@]}" --out "$work/one-gpu" >/dev/null 2>&1
  mpirun -np 2 --oversubscribe "$bin" "${args[@]}" --out "$work/two-gpu" >"$work/nccl.log" 2>&1 \
    || { tail -30 "$work/nccl.log"; exit 1; }
  [[ "$(json "$work/two-gpu/run.json" "d['compute']['backend']")" == nccl ]]
  python - "$work/one-gpu/model.safetensors" "$work/two-gpu/model.safetensors" <<'PY'
import sys
from safetensors.numpy import load_file
a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
worst = max(float(abs(a[k] - b[k]).max()) for k in a)
print(f"largest weight difference after 10 steps: {worst:.2e}")
assert worst <= 1e-4, worst
PY
  ok "2 GPUs over NCCL train like 1 GPU with the same global batch"
else
  echo "skipped: NCCL data parallel needs 2 GPUs (found $ngpu)"
fi
echo "gpu-check passed in $(( $(date +%s) - start )) s"
