"""Markdown table comparing supernet-training methods from `vidnas bench ranking --summary`
and the study's timings.csv: method, steps, wall time, tau and rho overall and in the band,
each with its 95% bootstrap interval, and the stand-alone seed-to-seed ceiling.

Usage: python3 scripts/ranking_table.py SUMMARY.json TIMINGS.csv > methods.md
"""
import csv
import json
import sys


def fmt(agreement, key):
    if agreement is None:
        return "-"
    value, ci = agreement[key], agreement.get(key + "_95")
    return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def main():
    summary = json.load(open(sys.argv[1]))
    timings = {row["method"]: row for row in csv.DictReader(open(sys.argv[2]))}
    band = summary.get("band")
    print(f"{summary['archs']} architectures", end="")
    if band:
        print(f"; {band['archs']} inside {band['ms']} ms ± {band['pct']}% on {band['table']}", end="")
    print(". 95% bootstrap intervals over the architectures.\n")
    print("| method | steps | wall time (s) | τ overall | ρ overall | τ in band | ρ in band |")
    print("|---|---|---|---|---|---|---|")
    ceiling_band = band and band.get("ceiling")
    print(f"| stand-alone seed vs seed (ceiling) | | | {fmt(summary['ceiling'], 'tau')} | "
          f"{fmt(summary['ceiling'], 'rho')} | {fmt(ceiling_band, 'tau')} | {fmt(ceiling_band, 'rho')} |")
    for p in summary["proxies"]:
        t = timings.get(p["name"], {})
        wall = t.get("wall_s", "")
        if t.get("note"):
            wall += f" ({t['note']})"
        inside = p.get("band") or {}
        print(f"| {p['name']} | {t.get('steps', '')} | {wall} | {fmt(p['overall']['proxy'], 'tau')} | "
              f"{fmt(p['overall']['proxy'], 'rho')} | {fmt(inside.get('proxy'), 'tau')} | "
              f"{fmt(inside.get('proxy'), 'rho')} |")


if __name__ == "__main__":
    main()
