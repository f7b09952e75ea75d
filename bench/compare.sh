#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs weft-bench and the Tokio and Asio reference programs (bench/peers/) side by
# side, N rounds, then the http_sqlite service of weft (examples/http_sqlite)
# and of Tokio (peers/tokio-http-sqlite) under the same wrk load (load.sh),
# and prints a Markdown table of the medians with the weft/Tokio and
# weft/Asio ratios; draws the latency workloads with gnuplot.
#
#   bench/compare.sh [--rounds N] [--noisy | --every-cpu-busy] [--quick] [--out DIR]
#                    [--timeout S] [--connections C] [--http-duration S] [bench ...]
#
# --quick and the bench names are passed to all three programs; the name
# http_sqlite selects the service run (default: everything). Each round runs
# weft, tokio, asio one after the other, then the weft and the tokio service
# (interleaved, so that a change in the machine's load hits all alike).
# --noisy runs a co-runner for the whole run, so during every program's run:
# a plain busy loop at default priority pinned with taskset to the last CPU.
# --every-cpu-busy runs one such busy loop pinned to each CPU instead (a host
# that another program keeps fully busy; not a DESIGN §7 target).
# The service gets --connections C keep-alive connections (default 64) for
# --http-duration S seconds (default 10; 3 with --quick).
# Raw output goes to bench/results/<date>[-noisy|-busy]/ (or DIR):
# round<k>-<impl>.jsonl (stdout), .stderr, .rc, and round<k>-<impl>.http.*
# for the service; meta.txt (machine, load, git revision, co-runner);
# table.md, rounds.md, latency.dat, latency.gp and latency.png.
#
# Overrides: WEFT_BENCH (default build/release/bench/workloads/weft-bench),
# WEFT_HTTP (default build/release/examples/http_sqlite), TOKIO_RUN, ASIO_RUN,
# TOKIO_HTTP_RUN (default bench/peers/{tokio,asio,tokio-http-sqlite}/run.sh).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
peers="${PEERS:-$here/peers}"
weft_bench="${WEFT_BENCH:-$root/build/release/bench/workloads/weft-bench}"
tokio_run="${TOKIO_RUN:-$peers/tokio/run.sh}"
asio_run="${ASIO_RUN:-$peers/asio/run.sh}"
weft_http="${WEFT_HTTP:-$root/build/release/examples/http_sqlite}"
tokio_http_run="${TOKIO_HTTP_RUN:-$peers/tokio-http-sqlite/run.sh}"
http_load="$peers/tokio-http-sqlite/load.sh"

rounds=1
out=""
per_run_timeout=1800
# Co-runners (--noisy, --every-cpu-busy): the option as given, the CPUs a
# busy loop is pinned to (empty: none), and how the output folder and the
# chart name them.
co_flag=""; co_cpus=""; co_suffix=""; co_label=""
connections=64
http_duration=""
quick=0
args=()    # what the three workload programs get: --quick and their bench names
names=()   # every bench name asked for
while (($#)); do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a number}"; shift 2 ;;
    --rounds=*) rounds="${1#*=}"; shift ;;
    --noisy) co_flag=--noisy; co_cpus=$(($(nproc) - 1)); co_suffix=-noisy; co_label='busy co-runner on one CPU'; shift ;;
    --every-cpu-busy) co_flag=--every-cpu-busy; co_cpus="$(seq -s ' ' 0 $(($(nproc) - 1)))"; co_suffix=-busy
      co_label='busy co-runner on every CPU'; shift ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --timeout) per_run_timeout="${2:?--timeout needs seconds}"; shift 2 ;;
    --connections) connections="${2:?--connections needs a number}"; shift 2 ;;
    --http-duration) http_duration="${2:?--http-duration needs seconds}"; shift 2 ;;
    --quick) args+=(--quick); quick=1; shift ;;
    -h|--help) sed -n '3,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    http_sqlite) names+=("$1"); shift ;;
    *) args+=("$1"); names+=("$1"); shift ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --rounds must be a positive number" >&2; exit 2; }
[[ "$connections" =~ ^[1-9][0-9]*$ ]] && ((connections >= 2)) || { echo "compare.sh: --connections must be at least 2" >&2; exit 2; }
[[ -z "$http_duration" ]] && http_duration=$((quick ? 3 : 10))
[[ "$http_duration" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --http-duration must be a positive number" >&2; exit 2; }
# Which parts run: the three workload programs unless only http_sqlite was
# named; the service unless bench names without http_sqlite were given.
run_programs=1; run_http=1
if ((${#names[@]})); then
  run_http=0; run_programs=0
  for n in "${names[@]}"; do
    if [[ "$n" == http_sqlite ]]; then run_http=1; else run_programs=1; fi
  done
fi

if [[ -z "$out" ]]; then
  out="$here/results/$(date +%F)"
  out="$out$co_suffix"
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
  echo "args: --rounds $rounds${co_flag:+ $co_flag} ${args[*]:-}$( ((run_http)) && echo " http_sqlite: --connections $connections --http-duration $http_duration")"
  echo "load before: $(uptime)"
} > "$out/meta.txt"

# --- the Tokio service is built once, before any timing and any co-runner --
# Its run.sh copies the sources afresh and rebuilds the crate at nice 19 on
# every start, which took minutes per round on a busy machine (and longer
# with --noisy); build once here, then run the binary it built.
if ((run_http)) && [[ -z "${TOKIO_HTTP_RUN:-}" ]]; then
  echo "building the Tokio http_sqlite service (once)" >&2
  "$tokio_http_run" --help > /dev/null 2> "$out/tokio-http-sqlite-build.stderr" || true
  built="${TMPDIR:-/tmp}/weft-anchor-tokio-http-sqlite/target/release/tokio-http-sqlite"
  if [[ -x "$built" ]]; then
    tokio_http_run="$built"
    rm -f "$out/tokio-http-sqlite-build.stderr"
  fi
fi

# --- co-runners (--noisy, --every-cpu-busy): busy loops pinned to CPUs -------
co_pids=()
stop_co_runner() {
  local pid ticks
  for pid in "${co_pids[@]}"; do
    ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo '?')"
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    echo "co-runner $pid: used $ticks clock ticks of CPU ($(getconf CLK_TCK)/s)" >> "$out/meta.txt"
  done
  co_pids=()
}
http_tmp=""
cleanup() { stop_co_runner; [[ -n "$http_tmp" ]] && rm -rf "$http_tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if [[ -n "$co_cpus" ]]; then
  if ! command -v taskset >/dev/null 2>&1; then
    echo "compare.sh: $co_flag needs taskset (util-linux)" >&2; exit 1
  fi
  for co_cpu in $co_cpus; do
    taskset -c "$co_cpu" bash -c 'while :; do :; done' &
    co_pids+=($!)
    echo "co-runner: busy loop (bash), default priority, pinned to CPU $co_cpu, pid $!, for the whole run" >> "$out/meta.txt"
    echo "co-runner: busy loop pinned to CPU $co_cpu (pid $!)" >&2
  done
fi

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

# run_http <impl> <round> <server command...>: starts the http_sqlite server
# on a free port, drives it with load.sh, then SIGTERMs it. load.sh's JSON
# lines (with "impl" added) -> .http.jsonl; the server's and wrk's stderr ->
# .http.stderr; the status -> .http.rc (the server's exit status must be 0).
run_http() {
  local impl="$1" rnd="$2"; shift 2
  local base="$out/round$rnd-$impl.http"
  : > "$base.jsonl"
  if [[ ! -x "$1" ]]; then
    echo "not found or not executable: $1" > "$base.stderr"; echo 127 > "$base.rc"
    echo "  $impl http_sqlite: FAILED (missing $1)" >&2; return
  fi
  local log="$http_tmp/server-$impl-$rnd.stderr"
  : > "$log"   # exists before the first look for "listening on"
  "$@" --db "$http_tmp/users.db" --port 0 --workers 2 --max-blocking 512 2> "$log" &
  local pid=$! port="" i rc=0
  # Wait for "listening on": the first Tokio start builds it (minutes).
  for ((i = 0; i < 6000; i++)); do
    port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$log")"
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    { echo "--- server (never printed 'listening on')"; cat "$log"; } > "$base.stderr"; echo 1 > "$base.rc"
    echo "  $impl http_sqlite: FAILED (server did not start; see $base.stderr)" >&2; return
  fi
  timeout --kill-after=30 $((http_duration + 120)) "$http_load" "http://127.0.0.1:$port" "$http_duration" "$connections" \
    2> "$base.load.stderr" | sed 's/^{\("bench":"[^"]*"\)/{\1,"impl":"'"$impl"'"/' > "$base.jsonl" || rc=1
  kill -TERM "$pid" 2>/dev/null
  local server_rc=0
  wait "$pid" || server_rc=$?
  { echo "--- server"; cat "$log"; echo "--- load.sh"; cat "$base.load.stderr"; } > "$base.stderr"
  rm -f "$base.load.stderr"
  ((rc == 0 && server_rc != 0)) && rc=$((100 + server_rc))
  echo "$rc" > "$base.rc"
  if ((rc == 0)); then
    echo "  $impl http_sqlite: $(grep -o '"rps":[0-9.]*' "$base.jsonl" | head -1 | cut -d: -f2) req/s" >&2
  else
    echo "  $impl http_sqlite: FAILED (status $rc; server exit $server_rc; see $base.stderr)" >&2
  fi
}

if ((run_http)); then
  http_tmp="$(mktemp -d "${TMPDIR:-/tmp}/weft-compare-http.XXXXXX")"
  if [[ ! -x "$weft_http" ]]; then
    echo "compare.sh: $weft_http not found; build it with: cmake --build --preset release --target http_sqlite" >&2
  fi
fi

for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds  ($(uptime | sed 's/.*load/load/'))" >&2
  echo "load round $r: $(uptime)" >> "$out/meta.txt"
  if ((run_programs)); then
    run weft "$r" "$weft_bench" "${args[@]}"
    run tokio "$r" "$tokio_run" "${args[@]}"
    run asio "$r" "$asio_run" "${args[@]}"
  fi
  if ((run_http)); then
    run_http weft "$r" "$weft_http"
    run_http tokio "$r" "$tokio_http_run"
  fi
done
echo "load after: $(uptime)" >> "$out/meta.txt"
stop_co_runner

echo >&2
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
title="latency, medians of $rounds round(s)${co_label:+, $co_label} — $(date +%F), $(nproc) vCPUs ${cpu:-}"
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
