#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for the storage tests.
#
#   scripts/test-postgres.sh start DIR PORT   # prints the URL to export as COMMUCAT_TEST_POSTGRES_URL
#   scripts/test-postgres.sh stop DIR
#
# The cluster lives in DIR/data, listens on 127.0.0.1:PORT only, keeps its socket in DIR and logs to
# DIR/postgres.log. It runs as the `postgres` user (via runuser when started as root; PostgreSQL
# refuses to run as root). Database `commucat_test`, owner `commucat`, password `commucat`.
# Nothing is installed here: the Makefile installs Debian's `postgresql` package.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGUSER_OS=${PGUSER_OS:-postgres}

die() { echo "test-postgres: $*" >&2; exit 1; }
usage() { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

# Runs a command as the cluster owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$PGUSER_OS" -- "$@"
    else
        "$@"
    fi
}

check_tools() {
    for tool in initdb pg_ctl psql createdb; do
        [ -x "$PGBIN/$tool" ] || die "$PGBIN/$tool not found; install Debian's postgresql package (PostgreSQL 15)"
    done
    if [ "$(id -u)" -eq 0 ]; then
        id "$PGUSER_OS" >/dev/null 2>&1 || die "user $PGUSER_OS does not exist (it comes with the postgresql package)"
    fi
}

running() { as_owner "$PGBIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

start() {
    local dir=$1 port=$2
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "port must be 1..65535 (got $port)"
    check_tools
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
        chown "$PGUSER_OS": "$dir"
        chmod 0700 "$dir"
        as_owner test -w "$dir" || die "$PGUSER_OS cannot write $dir (a parent directory is not searchable by it); use a directory under /tmp"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    fi
    if running "$dir"; then
        echo "test-postgres: already running in $dir" >&2
    else
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >&2 || { tail -n 20 "$dir/postgres.log" >&2 || true; die "PostgreSQL did not start (port $port in use?)"; }
    fi
    local psql=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres)
    if [ "$(as_owner "${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'commucat'")" != "1" ]; then
        as_owner "${psql[@]}" -c "CREATE ROLE commucat LOGIN PASSWORD 'commucat'" >&2
    fi
    if [ "$(as_owner "${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'commucat_test'")" != "1" ]; then
        as_owner "$PGBIN/createdb" -h "$dir" -p "$port" -U postgres -O commucat commucat_test >&2
    fi
    echo "postgres://commucat:commucat@127.0.0.1:$port/commucat_test"
}

stop() {
    local dir=$1
    check_tools
    [ -d "$dir/data" ] || { echo "test-postgres: no cluster in $dir" >&2; return 0; }
    if running "$dir"; then
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2
    else
        echo "test-postgres: not running in $dir" >&2
    fi
}

case "${1:-}" in
    start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    *) usage ;;
esac
