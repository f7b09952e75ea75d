#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tables diagnostics_cost.sh's rounds: per workload and field, the median of
the rounds with diagnostics on and off, and how much worse "on" is (positive
= slower; for throughputs, the relative drop).

    diagnostics_cost.py DIR
"""
import glob
import json
import os
import statistics
import sys

HIGHER_IS_BETTER = {"ops_per_s"}


def main(folder):
    values = {}
    order = []
    for path in sorted(glob.glob(os.path.join(folder, "round*-*.jsonl"))):
        mode = os.path.basename(path).rsplit("-", 1)[1].split(".")[0]
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
                    if key not in order:
                        order.append(key)
                    values.setdefault((bench, field, mode), []).append(float(v))
    print("| workload | field | on (median) | off (median) | cost of on | rounds |")
    print("|---|---|---|---|---|---|")
    for bench, field in order:
        on = values.get((bench, field, "on"), [])
        off = values.get((bench, field, "off"), [])
        if not on or not off:
            continue
        m_on, m_off = statistics.median(on), statistics.median(off)
        if m_off == 0 or m_on == 0:
            cost = "n/a"
        elif field in HIGHER_IS_BETTER:
            cost = f"{(m_off / m_on - 1) * 100:+.1f}%"
        else:
            cost = f"{(m_on / m_off - 1) * 100:+.1f}%"
        print(f"| {bench} | {field} | {m_on:.3f} | {m_off:.3f} | {cost} | {len(on)}/{len(off)} |")


if __name__ == "__main__":
    main(sys.argv[1])
