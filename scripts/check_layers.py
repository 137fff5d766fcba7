#!/usr/bin/env python3
"""Fails when a crate depends on something its layer may not (crates/ARCHITECTURE.md).

Reads the normal [dependencies] of every workspace crate from `cargo metadata` and checks them
against the table below: the libtorch-free crates must never gain `tch` (directly or through
another vidnas crate), and no crate may import a crate of its own or a higher layer except those
listed. Run by .ci/run; exits 1 naming each crate and the dependency that breaks the rule.
"""
import json
import subprocess
import sys

# crate -> the vidnas crates it may depend on besides vidnas-io (which every crate may use);
# TORCH marks the crates allowed to link libtorch.
ALLOWED = {
    "vidnas-io": set(),
    "vidnas-space": set(),
    "vidnas-data": set(),
    "vidnas-latency": {"vidnas-space"},
    "vidnas-search": {"vidnas-space", "vidnas-io"},
    "vidnas-report": {"vidnas-search", "vidnas-space", "vidnas-io"},
    "vidnas-import": {"vidnas-space", "vidnas-io"},
    "vidnas-nn": {"vidnas-space"},
    "vidnas-parallel": set(),
    "vidnas-profile": {"vidnas-space", "vidnas-nn", "vidnas-latency", "vidnas-io"},
    "vidnas-diffusion": {"vidnas-space", "vidnas-io", "vidnas-nn", "vidnas-data",
                         "vidnas-parallel"},
    "vidnas-supernet": {"vidnas-space", "vidnas-io", "vidnas-nn", "vidnas-data", "vidnas-diffusion",
                        "vidnas-parallel"},
    "vidnas-export": {"vidnas-space", "vidnas-io", "vidnas-nn", "vidnas-data", "vidnas-diffusion",
                      "vidnas-parallel"},
    "vidnas-fewstep": {"vidnas-space", "vidnas-io", "vidnas-nn", "vidnas-data", "vidnas-diffusion",
                       "vidnas-export", "vidnas-parallel"},
    "vidnas-eval": {"vidnas-space", "vidnas-io", "vidnas-nn", "vidnas-data", "vidnas-diffusion",
                    "vidnas-export", "vidnas-parallel"},
    "vidnas-cli": None,  # the binary may use every library
}
TORCH = {"vidnas-nn", "vidnas-parallel", "vidnas-profile", "vidnas-diffusion", "vidnas-supernet", "vidnas-export",
         "vidnas-fewstep", "vidnas-eval", "vidnas-cli"}


def main():
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"]))
    deps = {p["name"]: {d["name"] for d in p["dependencies"] if d["kind"] is None}
            for p in meta["packages"]}
    problems = []
    for name, uses in sorted(deps.items()):
        if name not in ALLOWED:
            problems.append(f"{name}: not in scripts/check_layers.py; add it to its layer "
                            "(and to crates/ARCHITECTURE.md)")
            continue
        allowed = ALLOWED[name]
        if allowed is not None:
            allowed = allowed | {"vidnas-io"}  # the foundation: every crate may use it
            for d in sorted(u for u in uses if u.startswith("vidnas-") and u not in allowed):
                problems.append(f"{name} depends on {d}, which its layer may not import")
        if name not in TORCH:
            # Through any vidnas crate as well as directly.
            stack, seen = [name], set()
            while stack:
                c = stack.pop()
                for d in deps.get(c, ()):
                    if d == "tch":
                        problems.append(f"{name} reaches libtorch (tch) through {c}; "
                                        "it must stay libtorch-free")
                    elif d in deps and d not in seen:
                        seen.add(d)
                        stack.append(d)
    for p in problems:
        print(f"layers: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"layers: {len(deps)} crates checked, libtorch-free crates stay libtorch-free")


if __name__ == "__main__":
    main()
