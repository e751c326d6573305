#!/usr/bin/env bash
# Measures nginx serving festa's hashed app.css from its proxy cache against
# the same bytes served straight from disk by the same nginx, in one run:
#
#   go tool -modfile=tools/go.mod task stack     # in one terminal
#   deploy/bench-static.sh [ROUNDS] [DURATION]   # in another (needs wrk: task deps FOR=bench)
#
# FESTA_STACK_PORT, FESTA_STACK_INSTANCE and FESTA_STACK_RUN_DIR point it at
# a stack started with other --listen, --instances or folder.
#
# Both locations send the same bytes: to a client taking gzip, festa's gzip
# (from disk: gzip_static with the .gz next to the file); to one that does
# not, the plain file. So the figures compare serving, not compressing.
# Rounds alternate cache and disk so a busy machine shifts both alike; the
# medians are what BENCHMARKS.md quotes. A third line shows festa itself,
# behind no cache, for scale.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
duration=${2:-10s}
port=${FESTA_STACK_PORT:-8080}
instance=${FESTA_STACK_INSTANCE:-127.0.0.1:8081}
run=${FESTA_STACK_RUN_DIR:-$PWD/.festa/nginx}
front=http://127.0.0.1:$port
command -v wrk >/dev/null || { echo "needs wrk: go tool -modfile=tools/go.mod task deps FOR=bench" >&2; exit 1; }
[ -f "$run/nginx.pid" ] || { echo "no nginx under $run: start 'task stack' first" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)

css=$(curl -fsS "$front/" | grep -o '/static/css/app\.[0-9a-f]*\.css' | head -1)
disk=$run/bench-disk
mkdir -p "$disk"
curl -fsS "$front$css" -o "$disk/app.css"
curl -fsS -H 'Accept-Encoding: gzip' "$front$css" -o "$disk/app.css.gz"
cat >"$run/conf.d/bench-disk.conf" <<EOF
location = /bench-disk/app.css {
    alias $disk/app.css;
    gzip_static on;
    add_header Cache-Control "public, max-age=31536000, immutable";
}
EOF
"$nginx" -p "$run/" -c "$run/nginx.conf" -e stderr -s reload
sleep 1
trap 'rm -f "$run/conf.d/bench-disk.conf"; "$nginx" -p "$run/" -c "$run/nginx.conf" -e stderr -s reload' EXIT

# Warm the cache and check both answer the same bytes.
a=$(curl -fsS -H 'Accept-Encoding: gzip' "$front$css" | sha256sum)
b=$(curl -fsS -H 'Accept-Encoding: gzip' "$front/bench-disk/app.css" | sha256sum)
[ "$a" = "$b" ] || { echo "cache and disk differ" >&2; exit 1; }
echo "file: $css ($(stat -c %s "$disk/app.css.gz") bytes gzip); wrk -t2 -c64 -d$duration, $rounds rounds" >&2

# nginx_ticks: CPU time (clock ticks) used so far by nginx's workers.
nginx_ticks() {
  local master t=0 pid
  master=$(cat "$run/nginx.pid")
  for pid in $(pgrep -P "$master"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
# measure URL [HEADER]: one wrk run, printed as "requests/s µs-of-nginx-CPU-per-request".
# On a machine others are loading, wrk's rate swings with the scheduler;
# the CPU nginx spends per request hardly does, so that is the fair ratio.
measure() {
  local before after out
  before=$(nginx_ticks)
  out=$(wrk -t2 -c64 -d"$duration" ${2:+-H "$2"} "$1")
  after=$(nginx_ticks)
  awk -v out="$out" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
    n = split(out, l, "\n")
    for (i = 1; i <= n; i++) {
      if (l[i] ~ /requests in/) { split(l[i], f, " "); reqs = f[1] }
      if (l[i] ~ /Requests\/sec/) { split(l[i], f, " "); rate = f[2] }
    }
    printf "%.0f %.2f\n", rate, (reqs > 0 ? ticks / hz * 1e6 / reqs : 0)
  }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for enc in gzip identity; do
  header=""
  [ "$enc" = gzip ] && header="Accept-Encoding: gzip"
  cr=() cc=() dr=() dc=() fr=()
  for i in $(seq "$rounds"); do
    read -r r c < <(measure "$front$css" "$header"); cr+=("$r") cc+=("$c")
    read -r r c < <(measure "$front/bench-disk/app.css" "$header"); dr+=("$r") dc+=("$c")
    read -r r _ < <(measure "http://$instance$css" "$header"); fr+=("$r")
    echo "$enc round $i: cache ${cr[-1]}/s ${cc[-1]} µs  disk ${dr[-1]}/s ${dc[-1]} µs  festa ${fr[-1]}/s" >&2
  done
  mcr=$(median "${cr[@]}") mcc=$(median "${cc[@]}") mdr=$(median "${dr[@]}") mdc=$(median "${dc[@]}") mfr=$(median "${fr[@]}")
  awk -v e="$enc" -v cr="$mcr" -v cc="$mcc" -v dr="$mdr" -v dc="$mdc" -v fr="$mfr" 'BEGIN {
    printf "%-8s medians: nginx cache %d/s (%.1f µs CPU each), from disk %d/s (%.1f µs), festa direct %d/s; cache/disk: rate %.0f %%, per CPU %.0f %%\n",
      e, cr, cc, dr, dc, fr, 100 * cr / dr, 100 * dc / cc }'
done
