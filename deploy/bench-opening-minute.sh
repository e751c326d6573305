#!/usr/bin/env bash
# The opening-minute figures of record (docs/BENCHMARKS.md, "Figures of
# record"), one run after another on this machine: pgbench's floor, festa
# bench spike on one instance with 0, 2,000 and 5,000 viewers (each beside
# the shared booking floor), the live fan-out against the shared fan-out
# floor, then nginx in front of two instances (festa stack): 3,000 students
# with 5,000 viewers, and 18,000 viewers on the two instances, and last the
# booking-writes benchmark against pgbench.
#
#   PG=postgres://postgres@127.0.0.1:5432 deploy/bench-opening-minute.sh [OUT]
#
# PG is a PostgreSQL server the script may create databases on; SHARED is
# the shared benchmarks folder (default ../shared/bench). Results go to OUT
# (default /tmp/festa-opening-minute).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
PG=${PG:-postgres://postgres@127.0.0.1:5432}
SHARED=${SHARED:-$ROOT/../shared/bench}
OUT=${1:-/tmp/festa-opening-minute}; mkdir -p "$OUT"
BIN=$OUT/bin; mkdir -p "$BIN"
go build -o "$BIN/festa" ./cmd/festa || exit 1
go build -o "$BIN/festa-bench-live" ./cmd/festa-bench-live || exit 1
for f in booking-floor fanout-floor; do
  rm -rf "$BIN/src-$f" && cp -r "$SHARED/$f" "$BIN/src-$f" && (cd "$BIN/src-$f" && go build -o "$BIN/$f" .) || exit 1
done
git rev-parse --short HEAD > "$OUT/commit.txt"
PGPID=$(pgrep -o -x postgres)  # the oldest postmaster: the server PG names, on a machine running one
db() { psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; }
db festa_pgb; db festa_f1; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS festa_bench_floor"
pgbench -i -q -s 1 "$PG/festa_pgb" >/dev/null 2>&1
echo "== pgbench simple update (floor), 16 clients, 10 s" | tee "$OUT/pgbench.txt"
pgbench -N -c 16 -j 2 -T 10 "$PG/festa_pgb" 2>&1 | grep -E "tps|latency" | tee -a "$OUT/pgbench.txt"

export DATABASE_URL=$PG/festa_f1
"$BIN/festa" migrate
FESTA_ADDR=127.0.0.1:18080 FESTA_BASE_URL=http://127.0.0.1:18080 "$BIN/festa" serve > "$OUT/serve1.log" 2>&1 &
FPID=$!; sleep 3
for v in 0 2000 5000; do
  echo "== 1,000 students, $v viewers, one instance" | tee "$OUT/spike-1000-$v.txt"
  "$BIN/festa" bench spike -url http://127.0.0.1:18080 -students 1000 -viewers $v -seats 600 -pids $FPID,$PGPID \
    -floor "$BIN/booking-floor" -json "$OUT/spike-1000-$v.json" 2>&1 | grep -v "^[0-9][0-9]:" | tee -a "$OUT/spike-1000-$v.txt"
done
kill $FPID; wait $FPID

echo "== fan-out 5,000 viewers, 100 changes/s via booking" | tee "$OUT/live-5000.txt"
DATABASE_URL= "$BIN/festa-bench-live" -festa "$BIN/festa" -viewers 5000 -rate 100 -d 20s -via booking 2>&1 | grep -v "^[0-9][0-9]:" | tail -16 | tee -a "$OUT/live-5000.txt"
"$BIN/fanout-floor" -mode server -addr 127.0.0.1:18091 -tick 100ms -size 1500 > /dev/null 2>&1 &
FF=$!; sleep 1
echo "== fan-out floor 5,000 viewers" | tee "$OUT/floor-5000.txt"
"$BIN/fanout-floor" -mode client -addr 127.0.0.1:18091 -n 5000 -d 15s 2>&1 | tail -3 | tee -a "$OUT/floor-5000.txt"
kill $FF

db festa_f2; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS festa_bench_floor"
mkdir -p "$OUT/stack" && cd "$OUT/stack" && rm -rf .festa
DATABASE_URL=$PG/festa_f2 "$BIN/festa" stack -listen 18000 -instances 127.0.0.1:18081,127.0.0.1:18082 -students 60 > "$OUT/stack.log" 2>&1 &
SPID=$!
for i in $(seq 1 120); do curl -sf http://127.0.0.1:18000/healthz >/dev/null && break; sleep 1; done
sleep 2
PIDS=$(pgrep -f "$BIN/festa serve" | paste -sd,),$(pgrep -o nginx),$PGPID
export DATABASE_URL=$PG/festa_f2
echo "== 3,000 students, 5,000 viewers, nginx + two instances" | tee "$OUT/spike-stack.txt"
"$BIN/festa" bench spike -url http://127.0.0.1:18000 -students 3000 -viewers 5000 -seats 600 -sources 64 -pids "$PIDS" \
  -floor "$BIN/booking-floor" -json "$OUT/spike-stack.json" 2>&1 | grep -v "^[0-9][0-9]:" | tee -a "$OUT/spike-stack.txt"
echo "== 300 students through nginx, 18,000 viewers on the two instances" | tee "$OUT/spike-18k.txt"
"$BIN/festa" bench spike -url http://127.0.0.1:18000 -viewer-urls http://127.0.0.1:18081,http://127.0.0.1:18082 \
  -students 300 -viewers 18000 -seats 300 -sources 16 -pids "$PIDS" -json "$OUT/spike-18k.json" 2>&1 | grep -v "^[0-9][0-9]:" | tee -a "$OUT/spike-18k.txt"
kill -INT $SPID; wait $SPID

cd "$ROOT" && go test ./db -run '^$' -bench HoldConfirm -benchtime=500x -cpu 8 -count 3 2>&1 | grep -E "^Bench" | tee "$OUT/holdconfirm.txt"
echo "results in $OUT"
