#!/usr/bin/env bash
# Steps per second of supernet training on this machine: 1 process x 2 threads against
# 2 MPI processes x 1 thread (mpirun), same global batch. Each figure is (steps_long -
# steps_short) / (time_long - time_short), so start-up (loading, MPI set-up) cancels out; the
# four runs are interleaved, twice. Writes reports/data-parallel/steps-per-second.txt.
#
#   scripts/bench-data-parallel.sh [SPACE] [BATCH]     (default: search-spaces/tiny.json 4)
set -euo pipefail
cd "$(dirname "$0")/.."
space="${1:-search-spaces/tiny.json}"
batch="${2:-4}"
short=5
long=25
echo "expected wall time: about 2 minutes on 2 cores after the release build (tiny space, batch $batch)" >&2
scripts/install-libtorch.sh
. scripts/env.sh
cargo build --release --bin vidnas
bin=target/release/vidnas
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$bin" pretrain-image "$space" --out "$work/image" --steps 2 --batch-size "$batch" --threads 2 >/dev/null 2>&1

calc() { python3 -c "print($1)"; }

train() { # label steps -> seconds
  local label=$1 steps=$2 out="$work/$1-$2-$RANDOM"
  local args=(supernet train "$space" --image "$work/image" --out "$out" --steps "$steps"
              --batch-size "$batch" --checkpoint-every 1000 --seed 1)
  local t0 t1
  t0=$(date +%s.%N)
  if [[ $label == one ]]; then
    OMP_NUM_THREADS=2 "$bin" "${args[@]}" --threads 2 >/dev/null 2>&1
  else
    OMP_NUM_THREADS=1 mpirun -np 2 --oversubscribe "$bin" "${args[@]}" --threads 1 >/dev/null 2>&1
  fi
  t1=$(date +%s.%N)
  rm -rf "$out"
  calc "$t1 - $t0"
}

declare -A total
for label in one two; do total[$label]=0; done
for round in 1 2; do
  for label in one two; do
    ts=$(train "$label" "$short")
    tl=$(train "$label" "$long")
    total[$label]=$(calc "${total[$label]} + $tl - $ts")
    echo "round $round, $label: $short steps ${ts}s, $long steps ${tl}s" >&2
  done
done
steps=$(( 2 * (long - short) ))
one=$(calc "$steps / ${total[one]}")
two=$(calc "$steps / ${total[two]}")
report=reports/data-parallel/steps-per-second.txt
{
  echo "supernet train on $space, global batch $batch, fair sampling, f32, CPU"
  echo "machine: $(nproc) cores, $(uname -m); commit $(git rev-parse --short HEAD)"
  printf '1 process  x 2 threads: %.3f steps/s\n' "$one"
  printf '2 processes x 1 thread (mpirun, MPI all-reduce): %.3f steps/s\n' "$two"
  printf 'ratio (2x1 / 1x2): %.2f\n' "$(calc "$two / $one")"
  echo "method: (steps $long - steps $short) / (time $long - time $short), 2 interleaved rounds;"
  echo "nothing else ran on the machine. Command: scripts/bench-data-parallel.sh $space $batch"
} | tee "$report"
