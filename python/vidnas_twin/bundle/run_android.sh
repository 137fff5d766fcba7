#!/bin/sh
# Times every op of this bundle on an Android phone with ExecuTorch's executor_runner and
# writes measurements.csv for `vidnas latency import`.
#
#   EXECUTOR_RUNNER=/path/to/executor_runner ./run_android.sh [DEVICE_DIR]
#
# EXECUTOR_RUNNER: executor_runner cross-compiled for the phone (arm64-v8a) with the XNNPACK
# backend linked in, from the ExecuTorch release the manifest names (README.md says how).
# DEVICE_DIR: where on the phone to put it (default /data/local/tmp/vidnas). Needs adb with
# one phone attached, and python3 on this host for the conversion.
set -eu
cd "$(dirname "$0")"
runner=${EXECUTOR_RUNNER:?set EXECUTOR_RUNNER to an executor_runner built for the phone with XNNPACK (see README.md)}
dir=${1:-/data/local/tmp/vidnas}
field() { python3 -c "import json; print(json.load(open('manifest.json'))['$1'])"; }
threads=$(field threads)
batch=$(field batch)
tokens=$(field text_tokens)
dtype=$(field dtype)
version=$(field executorch_version)
runs=$(( $(field warmup) + $(field repeats) ))
adb shell mkdir -p "$dir/pte"
adb push "$runner" "$dir/executor_runner" >/dev/null
adb shell chmod +x "$dir/executor_runner"
adb push pte/. "$dir/pte/" >/dev/null
mkdir -p logs
total=$(ls pte/*.pte | wc -l)
i=0
for pte in pte/*.pte; do
  i=$((i + 1))
  name=$(basename "$pte" .pte)
  printf '\r[%d/%d] %s' "$i" "$total" "$name" >&2
  adb shell "$dir/executor_runner --model_path $dir/pte/$name.pte --num_executions $runs --cpu_threads $threads" \
    > "logs/$name.log" 2>&1 || echo " (failed: see logs/$name.log)" >&2
done
echo >&2
python3 runner_to_csv.py . > measurements.csv.tmp 2> convert.log || { cat convert.log >&2; exit 1; }
cat convert.log >&2
mv measurements.csv.tmp measurements.csv
stat=$(grep -o 'statistic [a-z]*' convert.log | tail -1 | cut -d' ' -f2)
echo "wrote measurements.csv; next:" >&2
echo "  vidnas latency import $(pwd)/measurements.csv --out phone.json --device-name \"<phone>\" --backend executorch-xnnpack --threads $threads --batch $batch --text-tokens $tokens --dtype $dtype --statistic $stat --runtime-version "executorch $version" --date $(date +%F) --space <space.json>" >&2
