#!/usr/bin/env python3
"""Markdown table of a motion study's evaluations: one row per lever and step count, read from
the `vidnas eval quality` folders scripts/motion-study.sh writes (OUT/eval/<lever>-<steps>/).

    python3 scripts/motion_table.py runs/motion > reports/motion/results.md
"""
import json
import pathlib
import sys


def pct(figure):
    return f"{100 * figure['estimate']:.0f} % [{100 * figure['low']:.0f}, {100 * figure['high']:.0f}]"


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/motion")
    rows = []
    for path in sorted((out / "eval").glob("*/quality.json")):
        lever, _, steps = path.parent.name.rpartition("-")
        q = json.loads(path.read_text())
        acc, fd = q["accuracy_generated"], q["frechet"]["generated_vs_real"]
        rows.append((lever, int(steps), pct(acc["motion"]), pct(acc["colour"]), pct(acc["shape"]),
                     f"{fd['estimate']:.0f} [{fd['low']:.0f}, {fd['high']:.0f}]",
                     f"{q['temporal_consistency_generated']['mean']:.3f}"))
    order = {name: i for i, name in enumerate(["temporal", "text-path", "noise-bias", "full"])}
    rows.sort(key=lambda r: (order.get(r[0], len(order)), r[0], r[1]))
    print("| lever | steps | motion | colour | shape | Fréchet distance | temporal consistency |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")


if __name__ == "__main__":
    main()
