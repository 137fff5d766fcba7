#!/usr/bin/env bash
# Does the surrogate find a better front for the same supernet budget? For 3 seeds, NSGA-II
# (population 12, 4 generations: 60 supernet evaluations) against surrogate-assisted NSGA-II
# (12 warm-up + 4 x 12: the same 60), both on the demo's supernet and table, hypervolume of the
# supernet-scored front against one fixed reference point. Writes reports/surrogate/bench.txt.
#
#   scripts/surrogate-bench.sh [DEMO_RUN]     (default runs/demo, made by scripts/demo.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
demo="${1:-runs/demo}"
echo "expected wall time: about 10 minutes on 2 cores (6 searches of 60 supernet evaluations)" >&2
[[ -d "$demo/supernet" && -f "$demo/latency-table.json" ]] || {
  echo "no $demo/supernet or $demo/latency-table.json: run scripts/demo.sh first" >&2; exit 1; }
scripts/install-libtorch.sh
. scripts/env.sh
cargo build --release --bin vidnas
bin=target/release/vidnas
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A reference point beyond every architecture of the tiny space on these objectives (score,
# latency ms, peak memory MB), fixed so that all six hypervolumes are comparable. The front is
# not re-ranked (--rerank 0): this compares the searches at equal supernet evaluations.
ref="0.03,170,28"
common=(search search-spaces/tiny.json --table "$demo/latency-table.json" --supernet "$demo/supernet"
        --population 12 --generations 4 --hv-ref "$ref" --threads 2 --rerank 0)
hv() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['hypervolume'])" "$1/summary.json"; }
supernet_rows() { grep -c ',supernet,' "$1/results.csv"; }
report=reports/surrogate/bench.txt
{
  echo "hypervolume of the supernet-scored front (reference $ref), 60 supernet evaluations each"
  echo "supernet: $demo/supernet (sha256 $(sha256sum "$demo/supernet/model.safetensors" | cut -c1-16)); commit $(git rev-parse --short HEAD)"
  printf '%-5s %-10s %10s %9s %12s %8s %s\n' seed method hypervolume supernet surrogate seconds "held-out tau per generation"
} > "$work/report"
for seed in 1 2 3; do
  for method in nsga2 surrogate; do
    extra=()
    [[ $method == surrogate ]] && extra=(--surrogate --surrogate-warmup 12)
    t0=$(date +%s.%N)
    "$bin" "${common[@]}" --seed "$seed" --out "$work/$method-$seed" "${extra[@]}" > "$work/$method-$seed.log" 2>&1
    t1=$(date +%s.%N)
    taus=$(grep -o 'per generation: .*' "$work/$method-$seed.log" | cut -d' ' -f3- || true)
    printf '%-5s %-10s %10.6f %9d %12d %8.0f %s\n' "$seed" "$method" "$(hv "$work/$method-$seed")" \
      "$(supernet_rows "$work/$method-$seed")" "$(grep -c ',surrogate,' "$work/$method-$seed/results.csv" || true)" \
      "$(python3 -c "print($t1 - $t0)")" "$taus" >> "$work/report"
  done
done
python3 - "$work/report" >> "$work/report" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[3:]]
for m in ("nsga2", "surrogate"):
    hv = [float(r[2]) for r in rows if r[1] == m]
    print(f"mean {m}: {statistics.mean(hv):.6f} (min {min(hv):.6f}, max {max(hv):.6f})")
PY
echo "nothing else ran on the machine. Command: scripts/surrogate-bench.sh $demo" >> "$work/report"
cp "$work/report" "$report"
cat "$report"
