#!/usr/bin/env bash
# Builds (release, -O2) and runs the Boost.Asio reference implementation of
# bench/README.md's workloads: io_context on 2 threads + a 64-thread thread_pool.
# Usage: run.sh [--quick] [bench ...]   JSON lines on stdout, the rest on stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -f /usr/include/boost/asio.hpp ]]; then
  if [[ $(id -u) == 0 ]]; then
    apt-get install -y -q libboost-dev >&2 || { apt-get update -q >&2 && apt-get install -y -q libboost-dev >&2; }
  else
    echo "run: apt-get install libboost-dev (as root)" >&2; exit 1
  fi
fi
# Build outside the source tree, which may be read-only; one build folder per
# checkout (CMake refuses a cache made from another source folder).
build="${TMPDIR:-/tmp}/weft-anchor-asio-$(printf '%s' "$here" | cksum | cut -d' ' -f1)"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build" -j 2 >&2
exec "$build/asio_anchor" "$@"
