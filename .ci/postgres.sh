#!/usr/bin/env bash
# A throw-away PostgreSQL for the store tests: a fresh cluster in a temporary folder, on
# 127.0.0.1 only, trust auth, fsync off. Installs the Debian package if the server is missing.
#
#   export MARGINCALL_TEST_POSTGRES_URL="$(bash .ci/postgres.sh start)"   # prints the URL
#   trap 'bash .ci/postgres.sh stop' EXIT
#
# PGPORT (default 55432) picks the port; MARGINCALL_PG_STATE (default /tmp/margincall-postgres.dir)
# is the file that remembers the folder between `start` and `stop`. Messages go to stderr, the URL to stdout.
set -euo pipefail

PORT="${PGPORT:-55432}"
STATE="${MARGINCALL_PG_STATE:-/tmp/margincall-postgres.dir}"

log() { echo "postgres.sh: $*" >&2; }

bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
        log "PostgreSQL server not found; installing the Debian package"
        if [[ "$(id -u)" != 0 ]]; then
            log "not root: install it with 'apt-get install -y postgresql'"
            exit 1
        fi
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
        dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    echo "$dir"
}

# Run a server command as the postgres user when root (initdb refuses root), else as ourselves.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bin dir
    bin="$(bindir)"
    if [[ -f "$STATE" ]] && [[ -d "$(cat "$STATE")" ]]; then
        log "a server from $(cat "$STATE") is recorded; stopping it first"
        stop
    fi
    dir="$(mktemp -d /tmp/margincall-pg.XXXXXX)"
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres:postgres "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U app --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2; then
        log "the server did not start (port $PORT in use? set PGPORT); its log:"
        cat "$dir/server.log" >&2 || true
        exit 1
    fi
    echo "$dir" >"$STATE"
    echo "postgresql+psycopg://app@127.0.0.1:$PORT/postgres"
}

stop() {
    local bin dir
    [[ -f "$STATE" ]] || { log "nothing to stop ($STATE absent)"; return 0; }
    dir="$(cat "$STATE")"
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$bin" && -d "$dir/data" ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf -- "$dir"
    rm -f -- "$STATE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
