#!/bin/bash
# As run on the measuring machine (its paths); the last repetitions ran two combinations only.
# Ping one server while the /user load goes to the other (or the same).
W=/work/main/build/release/examples/http_sqlite; T=/tmp/weft-anchor-tokio-http-sqlite/target/release/tokio-http-sqlite
L=/work/main/bench/peers/tokio-http-sqlite
D=$(mktemp -d); cp /tmp/weft-users.db $D/w.db; cp /tmp/weft-users.db $D/t.db
$W --db $D/w.db --port 0 --workers 2 --max-blocking 512 2> $D/wl & wp=$!
$T --db $D/t.db --port 0 --workers 2 --max-blocking 512 2> $D/tl & tp=$!
for i in $(seq 100); do grep -q listening $D/wl && grep -q listening $D/tl && break; sleep 0.1; done
wport=$(grep -o '127.0.0.1:[0-9]*' $D/wl | cut -d: -f2); tport=$(grep -o '127.0.0.1:[0-9]*' $D/tl | cut -d: -f2)
run() { # userport pingport label
  wrk -t2 -c64 -d8s -s $L/user.lua http://127.0.0.1:$1/ > $D/u.txt 2>&1 &
  u=$!
  wrk -t1 -c4 -d8s --latency http://127.0.0.1:$2/ping > $D/p.txt 2>&1
  wait $u
  echo "$3 user-rps=$(grep Requests/sec $D/u.txt | awk '{print $2}') ping-p50=$(grep ' 50%' $D/p.txt | awk '{print $2}') ping-p99=$(grep ' 99%' $D/p.txt | awk '{print $2}')"
}
for r in 1 2; do
  run $tport $wport "load->tokio ping->weft "
  #run $tport $tport "load->tokio ping->tokio"
  run $wport $wport "load->weft  ping->weft "
  #run $wport $tport "load->weft  ping->tokio"
done
kill -TERM $wp $tp; wait
rm -rf $D
