#!/usr/bin/env bash
# Builds (offline, release, from Debian's packaged crates) and runs the Tokio
# reference implementation of the workloads in bench/README.md.
# Usage: run.sh [--quick] [bench ...]   JSON lines on stdout, the rest on stderr.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v cargo >/dev/null 2>&1 || export PATH="$HOME/.cargo/bin:$PATH"
if [[ ! -d /usr/share/cargo/registry ]] || ! ls -d /usr/share/cargo/registry/tokio-1* >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then
    apt-get install -y -q librust-tokio-dev >&2 || { apt-get update -q >&2 && apt-get install -y -q librust-tokio-dev >&2; }
  else
    echo "run: apt-get install librust-tokio-dev (as root)" >&2; exit 1
  fi
fi
# Build in a private writable copy, outside the source tree (which may be read-only).
WORK="${TMPDIR:-/tmp}/weft-anchor-tokio"
mkdir -p "$WORK"
cp -r "$DIR/Cargo.toml" "$DIR/Cargo.lock" "$DIR/.cargo" "$DIR/src" "$WORK/"
(cd "$WORK" && CARGO_TARGET_DIR="$WORK/target" cargo build --release --offline --quiet 1>&2)
exec "$WORK/target/release/tokio-anchor" "$@"
