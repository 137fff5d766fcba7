#!/usr/bin/env python3
"""python3 runner_to_csv.py BUNDLE_DIR > measurements.csv

Turns the logs of ExecuTorch's `executor_runner` (one per op, BUNDLE_DIR/logs/<pte stem>.log,
as run_android.sh writes them) into the CSV `vidnas latency import` reads:
`signature,ms,count,mean_ms,std_ms,delegation` (the last from the manifest). The manifest's first `warmup` iterations of each log are
dropped; `ms` is the minimum of the rest. Runners that print only the total
("Model executed successfully N time(s) in X ms.") give the mean instead: the script then says
to import with `--statistic mean`. A signature without a usable log is named and the script
exits non-zero without writing a row. Standard library only (runs on any host with adb).
"""

import csv
import json
import math
import re
import sys
from pathlib import Path

ITERATION = re.compile(r"Iteration (\d+) of (\d+): ([0-9.eE+-]+) ms")
TOTAL = re.compile(r"Model executed successfully (\d+) time\(s\) in ([0-9.eE+-]+) ms")


def parse_log(text, warmup):
    """(statistic, ms, count, mean_ms, std_ms) of one runner log, or None when it has no
    timing."""
    times = [float(m.group(3)) for m in ITERATION.finditer(text)]
    if times:
        timed = times[warmup:] if len(times) > warmup else times
        mean = sum(timed) / len(timed)
        std = math.sqrt(sum((t - mean) ** 2 for t in timed) / len(timed))
        return "min", min(timed), len(timed), mean, std
    total = TOTAL.search(text)
    if total:
        n, ms = int(total.group(1)), float(total.group(2))
        return "mean", ms / n, n, ms / n, 0.0
    return None


def convert(bundle, out):
    bundle = Path(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    if manifest.get("format") != "vidnas-executorch-bundle/1":
        raise SystemExit(f"{bundle / 'manifest.json'}: not a vidnas ExecuTorch bundle manifest")
    rows, missing = [], []
    for op in manifest["ops"]:
        log = bundle / "logs" / (Path(op["pte"]).stem + ".log")
        parsed = parse_log(log.read_text(errors="replace"), manifest["warmup"]) if log.exists() else None
        if parsed is None:
            missing.append(f"{op['signature']} ({log}: {'no timing in it' if log.exists() else 'absent'})")
        else:
            rows.append((op["signature"],) + parsed + (op["delegation"],))
    if missing:
        raise SystemExit(f"{len(missing)} of {len(manifest['ops'])} signatures have no runner timing; "
                         "rerun run_android.sh for them:\n  " + "\n  ".join(missing))
    statistics = {r[1] for r in rows}
    statistic = "min" if statistics == {"min"} else "mean"
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["signature", "ms", "count", "mean_ms", "std_ms", "delegation"])
    for sig, _, ms, count, mean, std, delegation in rows:
        writer.writerow([sig, repr(mean if statistic == "mean" else ms), count, repr(mean), repr(std),
                         delegation])
    print(f"{len(rows)} signatures; ms is the {statistic} (import with --statistic {statistic})",
          file=sys.stderr)
    return statistic


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.split("\n\n")[0])
    convert(sys.argv[1], sys.stdout)
