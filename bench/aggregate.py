#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Aggregates the raw JSON lines compare.sh stored in a results folder.

    aggregate.py DIR [bench ...]

Only the named workloads are tabled (default: all of bench/README.md's).
DIR holds round<k>-<impl>.jsonl (stdout of one program for one round) and
round<k>-<impl>.rc (its exit status), and round<k>-<impl>.http.jsonl / .rc
for the http_sqlite service (weft and tokio only; the name http_sqlite
selects both of its workloads). Prints a Markdown table to stdout (and
writes it to DIR/table.md): per workload and field, the median across rounds
for weft, tokio and asio, and the weft/tokio and weft/asio ratios. Writes
DIR/rounds.md (every round's value) and DIR/latency.dat (p50/p99 medians of
the latency workloads, for gnuplot). An impl that produced no value for a
workload is "failed"; a field an impl does not report is "n/a".
"""
import glob
import json
import os
import re
import statistics
import sys

IMPLS = ["weft", "tokio", "asio"]
# bench/README.md's workloads and fields, in its order; True = higher is better.
BENCHES = [
    ("blocking_throughput", [("ops_per_s", True)]),
    ("blocking_roundtrip", [("p50_us", False), ("p99_us", False), ("mean_us", False)]),
    ("spawn_throughput", [("ops_per_s", True)]),
    ("timer_idle", [("p50_us", False), ("p99_us", False), ("max_us", False)]),
    ("timer_under_blocking_load", [("p50_us", False), ("p99_us", False), ("max_us", False)]),
    ("echo_under_blocking_load", [("p50_us", False), ("p99_us", False)]),
    ("burst_reuse", [("wall_ms", False), ("threads_spawned", False)]),
    ("shutdown_bounded", [("wall_ms", False)]),
    ("http_sqlite_user", [("rps", True), ("p50_us", False), ("p99_us", False), ("errors", False)]),
    ("http_sqlite_ping_under_load", [("rps", True), ("p50_us", False), ("p99_us", False)]),
]
LATENCY = ["blocking_roundtrip", "timer_idle", "timer_under_blocking_load", "echo_under_blocking_load",
           "http_sqlite_user", "http_sqlite_ping_under_load"]
# The service has no Asio implementation.
HTTP_BENCHES = {"http_sqlite_user", "http_sqlite_ping_under_load"}
HTTP_IMPLS = {"weft", "tokio"}


def load(folder):
    """values[(bench, impl, field)] = [one value per round]; status[(impl, round)] = rc."""
    values, status, rounds, bad_lines = {}, {}, set(), 0
    for path in sorted(glob.glob(os.path.join(folder, "round*-*.jsonl"))):
        m = re.match(r"round(\d+)-(\w+)(\.http)?\.jsonl$", os.path.basename(path))
        if not m:
            continue
        rnd, impl = int(m.group(1)), m.group(2)
        part = impl + (" http_sqlite" if m.group(3) else "")
        rounds.add(rnd)
        rc_path = path[: -len(".jsonl")] + ".rc"
        try:
            with open(rc_path) as f:
                status[(part, rnd)] = int(f.read().strip() or 1)
        except (OSError, ValueError):
            status[(part, rnd)] = None
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                    bench = obj["bench"]
                except (ValueError, KeyError, TypeError):
                    bad_lines += 1
                    continue
                for field, v in obj.items():
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        values.setdefault((bench, impl, field), []).append(float(v))
    return values, status, sorted(rounds), bad_lines


def fmt(v):
    if v is None:
        return None
    if v == int(v) and abs(v) < 100000:
        return str(int(v))
    a = abs(v)
    if a >= 100000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: aggregate.py RESULTS_DIR [bench ...]")
    folder, wanted = sys.argv[1], set(sys.argv[2:])
    if "http_sqlite" in wanted:
        wanted = (wanted - {"http_sqlite"}) | HTTP_BENCHES
    unknown = wanted - {b for b, _ in BENCHES}
    if unknown:
        sys.exit(f"aggregate.py: unknown workload(s): {' '.join(sorted(unknown))}")
    benches = [(b, f) for b, f in BENCHES if not wanted or b in wanted]
    values, status, rounds, bad_lines = load(folder)

    def impl_ran(impl, bench):
        return any(k[0] == bench and k[1] == impl for k in values)

    def cell(bench, impl, field):
        if bench in HTTP_BENCHES and impl not in HTTP_IMPLS:
            return None, "—"
        vs = values.get((bench, impl, field))
        if vs:
            return statistics.median(vs), fmt(statistics.median(vs))
        if impl_ran(impl, bench):
            return None, "n/a"   # ran, but does not report this field
        return None, "failed"

    lines = [
        f"Medians across {len(rounds)} round(s). ↑ higher is better, ↓ lower is better; "
        "ratios are weft / other (for ↑ fields > 1 means weft is ahead, for ↓ fields < 1 means weft is ahead).",
        "",
        "| workload | field | weft | tokio | asio | weft/tokio | weft/asio |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    chart_rows = []
    for bench, fields in benches:
        for field, higher in fields:
            cells = {impl: cell(bench, impl, field) for impl in IMPLS}
            ratios = []
            for other in ("tokio", "asio"):
                w, o = cells["weft"][0], cells[other][0]
                ratios.append(f"{w / o:.3f}" if w is not None and o not in (None, 0) else "—")
            arrow = "↑" if higher else "↓"
            lines.append(f"| {bench} | {field} {arrow} | " + " | ".join(cells[i][1] for i in IMPLS) + " | "
                         + " | ".join(ratios) + " |")
            if bench in LATENCY and field in ("p50_us", "p99_us"):
                chart_rows.append((f"{bench} {field[:3]}",
                                   [cells[i][0] for i in IMPLS]))
    failures = [(impl, rnd, rc) for (impl, rnd), rc in sorted(status.items()) if rc != 0]
    if failures or bad_lines:
        lines.append("")
        for impl, rnd, rc in failures:
            why = "did not record its exit status" if rc is None else f"exited with status {rc}"
            where = impl.replace(" http_sqlite", ".http")
            lines.append(f"- {impl}, round {rnd}: {why} (see round{rnd}-{where}.stderr)")
        if bad_lines:
            lines.append(f"- {bad_lines} line(s) of output were not JSON workload objects and were ignored")
    table = "\n".join(lines) + "\n"
    sys.stdout.write(table)
    with open(os.path.join(folder, "table.md"), "w") as f:
        f.write(table)

    # Every round's value, for the spread.
    with open(os.path.join(folder, "rounds.md"), "w") as f:
        f.write("| workload | field | impl | " + " | ".join(f"round {r}" for r in rounds) + " |\n")
        f.write("|---|---|---|" + "---:|" * len(rounds) + "\n")
        for bench, fields in benches:
            for field, _ in fields:
                for impl in IMPLS:
                    if bench in HTTP_BENCHES and impl not in HTTP_IMPLS:
                        continue
                    vs = values.get((bench, impl, field), [])
                    cols = [fmt(v) for v in vs] + ["—"] * (len(rounds) - len(vs))
                    f.write(f"| {bench} | {field} | {impl} | " + " | ".join(cols) + " |\n")

    # gnuplot data: one row per (workload, percentile). A missing value is
    # written as 1e-9, below the chart's log-scale range (no bar), because
    # gnuplot refuses a histogram column with no valid point at all.
    with open(os.path.join(folder, "latency.dat"), "w") as f:
        f.write("# label " + " ".join(IMPLS) + "  (medians, microseconds; 1e-9 = failed)\n")
        for label, vals in chart_rows:
            f.write(f"\"{label}\" " + " ".join("1e-9" if v is None else f"{v:.3f}" for v in vals) + "\n")


if __name__ == "__main__":
    main()
