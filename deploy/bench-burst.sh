#!/usr/bin/env bash
# One opening burst on one instance, the booking floor right after it, and
# where the database's time went: the quick loop for work on the booking
# path (docs/BENCHMARKS.md, "Second pass"). Builds festa from this checkout
# (or SRC), creates the database festa_burst on PG, starts `festa serve`,
# runs `festa bench spike`, then prints pg_stat_statements' top statements
# when the server has it loaded (shared_preload_libraries).
#
#   PG=postgres://postgres@127.0.0.1:5432 deploy/bench-burst.sh [OUT]
#
# N students (default 1000), V viewers (default 0); POOLQ is appended to
# the database URL (e.g. '?pool_max_conns=8').
set -u
cd "$(dirname "$0")/.."
SRC=${SRC:-$PWD}; OUT=${1:-/tmp/festa-burst}; N=${N:-1000}; V=${V:-0}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
SHARED=${SHARED:-$PWD/../shared/bench}
mkdir -p "$OUT/bin"
(cd "$SRC" && go build -o "$OUT/bin/festa" ./cmd/festa) || exit 1
if [ ! -x "$OUT/bin/booking-floor" ]; then
  rm -rf "$OUT/bin/src-floor" && cp -r "$SHARED/booking-floor" "$OUT/bin/src-floor" &&
    (cd "$OUT/bin/src-floor" && go build -o "$OUT/bin/booking-floor" .) || exit 1
fi
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS festa_burst" -c "CREATE DATABASE festa_burst" -c "DROP DATABASE IF EXISTS festa_bench_floor" || exit 1
export DATABASE_URL=$PG/festa_burst${POOLQ:-}
"$OUT/bin/festa" migrate > /dev/null || exit 1
FESTA_ADDR=127.0.0.1:18080 FESTA_BASE_URL=http://127.0.0.1:18080 "$OUT/bin/festa" serve > "$OUT/serve.log" 2>&1 &
FPID=$!
trap 'kill $FPID 2>/dev/null; wait $FPID 2>/dev/null' EXIT
for i in $(seq 1 50); do curl -sf http://127.0.0.1:18080/healthz > /dev/null && break; sleep 0.2; done
PGPID=$(pgrep -o -x postgres)
STATS=$(psql "$PG/festa_burst" -Atc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" 2>/dev/null && echo yes)
"$OUT/bin/festa" bench spike -url http://127.0.0.1:18080 -students "$N" -viewers "$V" -seats 600 -pids "$FPID,$PGPID" \
  -floor "$OUT/bin/booking-floor" 2>&1 | grep -v "^[0-9][0-9]:" | tee "$OUT/spike.txt"
if [ -n "$STATS" ]; then
  echo "== pg_stat_statements (the whole run: sign-in, page loads and the burst)"
  psql "$PG/festa_burst" -Atc "SELECT round(total_exec_time)::text || ' ms total, ' || calls || ' calls, ' || round(mean_exec_time::numeric, 3) || ' ms mean: ' || left(regexp_replace(query, '\s+', ' ', 'g'), 110)
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'festa_burst')
    ORDER BY total_exec_time DESC LIMIT 14" | tee "$OUT/statements.txt"
fi
