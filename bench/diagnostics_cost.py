#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tables diagnostics_cost.sh's rounds, per workload and field:
- the median of the rounds with diagnostics on and with them off;
- the paired cost: in each round, how much worse "on" was than "off" of the
  same round (positive = slower; for throughputs, the relative drop), and the
  median of those per-round costs with the middle half of them (quartiles),
  so that a figure inside its own spread reads as noise;
- the share of rounds in which "on" was worse.

    diagnostics_cost.py DIR
"""
import glob
import json
import os
import re
import statistics
import sys

HIGHER_IS_BETTER = {"ops_per_s"}


def cost(field, on, off):
    """How much worse on is than off, as a fraction (None if undefined)."""
    if on == 0 or off == 0:
        return None
    return off / on - 1 if field in HIGHER_IS_BETTER else on / off - 1


def quartiles(xs):
    if len(xs) < 2:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def main(folder):
    # values[(bench, field)][round][mode] = value
    values = {}
    order = []
    for path in sorted(glob.glob(os.path.join(folder, "round*-*.jsonl"))):
        m = re.match(r"round(\d+)-(on|off)\.jsonl$", os.path.basename(path))
        if not m:
            continue
        rnd, mode = int(m.group(1)), m.group(2)
        with open(path) as f:
            for line in f:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                bench = obj.pop("bench")
                obj.pop("impl", None)
                for field, v in obj.items():
                    key = (bench, field)
                    if key not in values:
                        values[key] = {}
                        order.append(key)
                    values[key].setdefault(rnd, {})[mode] = float(v)
    print("| workload | field | on (median) | off (median) | paired cost of on: median [quartiles] | on worse in | rounds |")
    print("|---|---|---|---|---|---|---|")
    for bench, field in order:
        rounds = values[(bench, field)]
        on = [r["on"] for r in rounds.values() if "on" in r]
        off = [r["off"] for r in rounds.values() if "off" in r]
        if not on or not off:
            continue
        paired = [c for r in rounds.values() if "on" in r and "off" in r
                  for c in [cost(field, r["on"], r["off"])] if c is not None]
        if paired:
            lo, hi = quartiles(paired)
            med = statistics.median(paired)
            worse = sum(1 for c in paired if c > 0)
            pc = f"{med * 100:+.1f}% [{lo * 100:+.1f}%, {hi * 100:+.1f}%]"
            share = f"{worse}/{len(paired)}"
        else:
            pc, share = "n/a", "n/a"
        print(f"| {bench} | {field} | {statistics.median(on):.3f} | {statistics.median(off):.3f} "
              f"| {pc} | {share} | {len(on)}/{len(off)} |")


if __name__ == "__main__":
    main(sys.argv[1])
