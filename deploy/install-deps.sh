#!/usr/bin/env bash
# Installs the Debian packages festa's tasks need besides Go, per purpose:
#
#   deploy/install-deps.sh dev     PostgreSQL server binaries (festa dev)
#   deploy/install-deps.sh test    the test suite: PostgreSQL, chromium, zbar,
#                                  WebKitWebDriver under Xvfb, nginx, git
#   deploy/install-deps.sh stack   festa stack: PostgreSQL and nginx
#   deploy/install-deps.sh bench   the benchmarks' load generator (wrk)
#
# Several purposes may be given. When everything is there it only looks
# (no apt-get, no network). Otherwise, as root it runs apt-get (update
# first, no recommends, waiting for another apt to finish); as anyone else
# it prints the one command to run and fails.
set -euo pipefail

missing=()
optional=()

# has CHECK... succeeds when any CHECK is a command on PATH or an existing
# path (globs allowed).
has() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 && return 0
    compgen -G "$c" >/dev/null 2>&1 && return 0
  done
  return 1
}

# need PACKAGE CHECK... adds PACKAGE unless a CHECK finds it.
need() {
  local pkg=$1
  shift
  has "$@" || missing+=("$pkg")
}

# want PACKAGE CHECK... is need for what festa uses only when present
# (nginx's brotli module): installed along with the rest, never a failure.
want() {
  local pkg=$1
  shift
  has "$@" || optional+=("$pkg")
}

need_postgres() { need postgresql initdb '/usr/lib/postgresql/*/bin/initdb'; }
need_nginx() {
  need nginx nginx /usr/sbin/nginx
  want libnginx-mod-http-brotli-filter /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so
}

[ $# -gt 0 ] || { echo "usage: $0 dev|test|stack|bench..." >&2; exit 2; }
for purpose in "$@"; do
  case $purpose in
  dev)
    need_postgres
    ;;
  test)
    need_postgres
    need chromium chromium
    need zbar-tools zbarimg
    # WebKit (Safari's engine) browser tests: WebKitWebDriver on an Xvfb display.
    need webkit2gtk-driver WebKitWebDriver '/usr/lib/*/webkit2gtk-4.*/WebKitWebDriver'
    need xvfb Xvfb
    need xauth xauth
    need git git
    need_nginx
    ;;
  stack)
    need_postgres
    need_nginx
    ;;
  bench)
    need wrk wrk
    ;;
  *)
    echo "$0: unknown purpose $purpose (dev, test, stack, bench)" >&2
    exit 2
    ;;
  esac
done

[ ${#missing[@]} -eq 0 ] && exit 0
# One of each, in a stable order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "festa needs ${missing[*]}; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "festa needs ${missing[*]} and this machine has no apt-get; install them and retry" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
lock=(-o DPkg::Lock::Timeout=600)
echo "installing ${missing[*]}…"
# DPkg::Lock::Timeout waits for another install; update's own lock does
# not wait, so retry it for up to five minutes.
tries=0
until apt-get "${lock[@]}" update -q; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || exit 1
  echo "apt-get update failed (another apt running?); retrying in 5 s" >&2
  sleep 5
done
for pkg in ${optional[@]+"${optional[@]}"}; do
  # Only what this Debian release has (the brotli module is not everywhere).
  if apt-cache show "$pkg" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done
apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}"
