#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Test of examples/http_sqlite (CTest example.http_sqlite):
#   http_sqlite_test.sh SERVER CHECK_SH [--no-signal]
# Starts SERVER on a free port with a fresh database, runs CHECK_SH (the
# protocol's conformance check: every route, exact bodies, keep-alive), then
# opens an idle keep-alive connection and sends SIGTERM: the server must close
# that connection at once (not after the 5 s grace) and exit 0.
# --no-signal (ThreadSanitizer builds) stops after CHECK_SH: TSan runs a signal
# handler only when the receiving thread next enters a function it intercepts,
# and the kernel may pick a thread parked in a raw futex wait (block_on's), so
# the SIGTERM would wait forever; the other builds test it.
set -euo pipefail
server="${1:?usage: http_sqlite_test.sh SERVER CHECK_SH}"
check="${2:?usage: http_sqlite_test.sh SERVER CHECK_SH}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/weft-http-sqlite-test.XXXXXX")"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$server" --db "$tmp/users.db" --port 0 2> "$tmp/stderr" &
pid=$!
port=""
for _ in $(seq 1 1200); do   # up to 120 s: creating 100,000 rows under a sanitizer is slow
  port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/stderr")"
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "FAIL: server exited before listening:"; cat "$tmp/stderr"; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "FAIL: no 'listening on 127.0.0.1:PORT' line"; cat "$tmp/stderr"; exit 1; }

bash "$check" "http://127.0.0.1:$port"
if [[ ${3:-} == --no-signal ]]; then
  echo "ok   (SIGTERM not tested: ThreadSanitizer build)"
  exit 0
fi

# An idle keep-alive connection: one request answered, then nothing.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&3
IFS= read -r -t 10 status_line <&3
[[ "$status_line" == $'HTTP/1.1 200 OK\r' ]] || { echo "FAIL: keep-alive request answered '$status_line'"; exit 1; }

start=$SECONDS
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
elapsed=$((SECONDS - start))
exec 3<&-
grep -q '^SIGTERM: shutting down$' "$tmp/stderr" || { echo "FAIL: no 'SIGTERM: shutting down'"; cat "$tmp/stderr"; exit 1; }
if ((rc != 0)); then echo "FAIL: exit status $rc after SIGTERM"; cat "$tmp/stderr"; exit 1; fi
if ((elapsed > 3)); then echo "FAIL: shutdown took ${elapsed} s with an idle connection open (want < 5 s grace)"; exit 1; fi
echo "ok   SIGTERM with an idle keep-alive connection: exit 0 in ${elapsed} s"
