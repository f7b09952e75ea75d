#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs weft-bench and the Tokio and Asio reference programs (bench/peers/) side by
# side, N rounds, and prints a Markdown table of the medians with the
# weft/Tokio and weft/Asio ratios; draws the latency workloads with gnuplot.
#
#   bench/compare.sh [--rounds N] [--quick] [--out DIR] [--timeout S] [bench ...]
#
# --quick and the bench names are passed to all three programs. Each round
# runs weft, tokio, asio one after the other (interleaved, so that a change
# in the machine's load hits all three alike). Raw output goes to
# bench/results/<date>/ (or DIR): round<k>-<impl>.jsonl (stdout),
# .stderr, .rc; meta.txt (machine, load, git revision); table.md,
# rounds.md, latency.dat, latency.gp and latency.png.
#
# Overrides: WEFT_BENCH (default build/release/bench/workloads/weft-bench),
# TOKIO_RUN, ASIO_RUN (default bench/peers/{tokio,asio}/run.sh).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
peers="${PEERS:-$here/peers}"
weft_bench="${WEFT_BENCH:-$root/build/release/bench/workloads/weft-bench}"
tokio_run="${TOKIO_RUN:-$peers/tokio/run.sh}"
asio_run="${ASIO_RUN:-$peers/asio/run.sh}"

rounds=1
out=""
per_run_timeout=1800
args=()
while (($#)); do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a number}"; shift 2 ;;
    --rounds=*) rounds="${1#*=}"; shift ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --timeout) per_run_timeout="${2:?--timeout needs seconds}"; shift 2 ;;
    --quick) args+=(--quick); shift ;;
    -h|--help) sed -n '3,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --rounds must be a positive number" >&2; exit 2; }

if [[ -z "$out" ]]; then
  out="$here/results/$(date +%F)"
  # Never mix two runs of the same day: a second run gets the time too.
  if compgen -G "$out/round*-*.jsonl" >/dev/null; then out="$out-$(date +%H%M%S)"; fi
fi
mkdir -p "$out" || exit 1

if [[ ! -x "$weft_bench" ]]; then
  echo "compare.sh: $weft_bench not found; build it with: cmake --preset release && cmake --build --preset release --target weft-bench" >&2
fi

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
{
  echo "date: $(date -Is)"
  echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
  echo "weft: $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD -- src include 2>/dev/null || echo ' (+ uncommitted changes in src/ include/)')"
  echo "weft-bench: $weft_bench, built $(date -Is -r "$weft_bench" 2>/dev/null || echo '(missing)')"
  echo "args: --rounds $rounds ${args[*]:-}"
  echo "load before: $(uptime)"
} > "$out/meta.txt"

# run <impl> <round> <command...>: stdout -> .jsonl, stderr -> .stderr, status -> .rc
run() {
  local impl="$1" rnd="$2"; shift 2
  local base="$out/round$rnd-$impl"
  if [[ ! -x "$1" ]]; then
    echo "not found or not executable: $1" > "$base.stderr"; : > "$base.jsonl"; echo 127 > "$base.rc"
  else
    timeout --kill-after=30 "$per_run_timeout" "$@" > "$base.jsonl" 2> "$base.stderr"
    echo $? > "$base.rc"
  fi
  local rc; rc="$(cat "$base.rc")"
  local n; n="$(grep -c '^{' "$base.jsonl" || true)"
  if [[ "$rc" == 0 ]]; then
    echo "  $impl: $n workload(s)" >&2
  else
    echo "  $impl: FAILED (status $rc, $n workload(s) before it; see $base.stderr)" >&2
  fi
}

for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds  ($(uptime | sed 's/.*load/load/'))" >&2
  echo "load round $r: $(uptime)" >> "$out/meta.txt"
  run weft "$r" "$weft_bench" "${args[@]}"
  run tokio "$r" "$tokio_run" "${args[@]}"
  run asio "$r" "$asio_run" "${args[@]}"
done
echo "load after: $(uptime)" >> "$out/meta.txt"

echo >&2
names=(); for a in "${args[@]}"; do [[ "$a" == --quick ]] || names+=("$a"); done
python3 "$here/aggregate.py" "$out" "${names[@]}" || { echo "compare.sh: aggregation failed" >&2; exit 1; }

# --- chart: p50/p99 of the latency workloads, grouped bars, log scale -------
if ! command -v gnuplot >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then
    apt-get install -y -q gnuplot-nox >&2 || { apt-get update -q >&2 && apt-get install -y -q gnuplot-nox >&2; }
  fi
fi
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "compare.sh: no chart: gnuplot is missing; install it with: apt-get install gnuplot-nox (as root)" >&2
  exit 0
fi
if ! grep -q '^"' "$out/latency.dat"; then
  echo "compare.sh: no chart: no latency workload was run" >&2
  exit 0
fi
title="latency, medians of $rounds round(s) — $(date +%F), $(nproc) vCPUs ${cpu:-}"
cat > "$out/latency.gp" <<EOF
set terminal pngcairo size 1200,600 font ",10"
set output "$out/latency.png"
set title "${title//\"/}"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [0.1:*]
set ylabel "microseconds (log scale)"
set grid ytics mytics
set key top left
set xtics rotate by -25 noenhanced
plot "$out/latency.dat" using 2:xtic(1) title "weft" lc rgb "#1b9e77", \
     "" using 3 title "tokio 1.24" lc rgb "#d95f02", \
     "" using 4 title "asio 1.74" lc rgb "#7570b3"
EOF
if gnuplot "$out/latency.gp" 2> "$out/latency.gp.stderr"; then
  [[ -s "$out/latency.gp.stderr" ]] || rm -f "$out/latency.gp.stderr"
  echo "chart: $out/latency.png" >&2
else
  echo "compare.sh: gnuplot failed; see $out/latency.gp.stderr" >&2
fi
echo "raw results: $out" >&2
