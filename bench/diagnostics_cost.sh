#!/bin/sh
# SPDX-License-Identifier: MIT
# What diagnostics cost (DESIGN §7: "diagnostics on vs off: <= 3% on every
# workload"): runs weft-bench with the stall detector and long-blocking
# reports on (the default) and off, alternating on/off within each round so
# that a change in the machine's load hits both alike, then tables the
# medians per workload and field, and the median of the per-round on/off
# ratios with its spread (the paired figure: a round's noise hits both).
#
#   bench/diagnostics_cost.sh [--rounds N] [--quick] [--out DIR] [bench ...]
#
# WEFT_BENCH overrides the binary (default build/release/bench/workloads/weft-bench).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rounds=5
quick=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --quick) quick=--quick; shift ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
  esac
done
bin=${WEFT_BENCH:-$here/../build/release/bench/workloads/weft-bench}
[ -x "$bin" ] || { echo "no $bin: cmake --preset release && cmake --build --preset release --target weft-bench" >&2; exit 1; }
out=${out:-$here/results/diagnostics-$(date +%Y-%m-%d-%H%M%S)}
mkdir -p "$out"
{
  echo "date: $(date -Is)"
  echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
  echo "weft: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null)"
  echo "weft-bench: $bin, built $(date -Is -r "$bin" 2>/dev/null)"
  echo "args: --rounds $rounds $quick $*"
  echo "load before: $(uptime)"
} > "$out/meta.txt"
k=1
while [ "$k" -le "$rounds" ]; do
  # Alternate which mode goes first, so that a drift within a round (a
  # co-runner starting, the CPU warming up) does not always favour one.
  if [ $((k % 2)) -eq 1 ]; then order="on off"; else order="off on"; fi
  for mode in $order; do
    echo "round $k/$rounds: diagnostics $mode" >&2
    "$bin" $quick --diagnostics "$mode" "$@" > "$out/round$k-$mode.jsonl" 2> "$out/round$k-$mode.stderr" || true
  done
  k=$((k + 1))
done
echo "load after: $(uptime)" >> "$out/meta.txt"
python3 "$here/diagnostics_cost.py" "$out" | tee "$out/table.md"
