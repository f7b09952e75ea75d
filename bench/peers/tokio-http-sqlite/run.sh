#!/usr/bin/env bash
# Builds (offline, release, from Debian's packaged crates) and runs the Tokio
# reference implementation of the http_sqlite service (protocol: README.md).
# Usage: run.sh --db PATH --port PORT [--workers 2] [--max-blocking 512]
# Prints "listening on 127.0.0.1:PORT" on stderr when ready; stop it with
# SIGINT or SIGTERM.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v cargo >/dev/null 2>&1 || export PATH="$HOME/.cargo/bin:$PATH"

missing=()
ls -d /usr/share/cargo/registry/tokio-1.* >/dev/null 2>&1 || missing+=(librust-tokio-dev)
ls -d /usr/share/cargo/registry/hyper-0.14.* >/dev/null 2>&1 || missing+=(librust-hyper-dev)
ls -d /usr/share/cargo/registry/rusqlite-0.28.* >/dev/null 2>&1 || missing+=(librust-rusqlite-dev)
[[ -e /usr/include/sqlite3.h ]] || missing+=(libsqlite3-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if (( ${#missing[@]} )); then
  if [[ $(id -u) == 0 ]]; then
    apt-get install -y -q "${missing[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2; }
  else
    echo "run: apt-get install ${missing[*]} (as root)" >&2; exit 1
  fi
fi

# Build in a private writable copy, outside the source tree (which may be read-only).
WORK="${TMPDIR:-/tmp}/weft-anchor-tokio-http-sqlite"
mkdir -p "$WORK"
rm -rf "$WORK/src"
cp -r "$DIR/Cargo.toml" "$DIR/Cargo.lock" "$DIR/.cargo" "$DIR/src" "$WORK/"
(cd "$WORK" && CARGO_TARGET_DIR="$WORK/target" nice -n 19 cargo build --release --offline --quiet 1>&2)
exec "$WORK/target/release/tokio-http-sqlite" "$@"
