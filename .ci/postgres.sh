#!/usr/bin/env bash
# A private PostgreSQL 15 for the test suite: its own data directory, port and socket directory, listening on
# 127.0.0.1 only, trust authentication, a database named conduit_test. It never uses or touches the system
# cluster (/etc/postgresql, /var/lib/postgresql): everything lives in one temporary directory.
#
#   pg_env=$(bash .ci/postgres.sh start)   # CONDUIT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/conduit_test
#   eval "$pg_env"; export CONDUIT_TEST_POSTGRES_URL
#   trap 'bash .ci/postgres.sh stop' EXIT   # stops exactly the server that `start` recorded, removes its directory
#
# (Assign first and eval after: `eval "$(… start)"` would hide a failed start from `set -e`.)
# The script may also be sourced (`source .ci/postgres.sh start`): then `start` exports the variable itself.
# As root the server runs as the `postgres` user (initdb refuses root); as any other user it runs as that user.
# Settings: CONDUIT_PG_BIN (default /usr/lib/postgresql/15/bin), CONDUIT_PG_TMPDIR (where the server's directory
# goes, default /tmp: it must be reachable by the `postgres` user), CONDUIT_PG_STATE_FILE (where start records the
# server for stop; default a file in /tmp named after this checkout).
# Progress goes to stderr; stdout carries only the URL line.
set -euo pipefail

conduit_pg_log() {
    echo "postgres.sh: $*" >&2
}

conduit_pg_state_file() {
    if [ -n "${CONDUIT_PG_STATE_FILE:-}" ]; then
        echo "$CONDUIT_PG_STATE_FILE"
        return
    fi
    local here checkout
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    checkout=$(printf '%s' "$here" | cksum | cut -d' ' -f1)
    echo "/tmp/conduit-ci-postgres-$checkout.state"
}

# Runs a command as the server's OS user: `postgres` when we are root, ourselves otherwise.
conduit_pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            local quoted
            quoted=$(printf '%q ' "$@")
            su postgres -s /bin/sh -c "$quoted"
        fi
    else
        "$@"
    fi
}

conduit_pg_find_bin() {
    local bin="${CONDUIT_PG_BIN:-/usr/lib/postgresql/15/bin}"
    if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            conduit_pg_log "PostgreSQL 15 not found in $bin; installing Debian's postgresql-15 (no system cluster)"
            # Keep the package from creating (and starting) a system cluster: we only want the binaries.
            mkdir -p /etc/postgresql-common/createcluster.d
            echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/conduit-ci.conf
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
        fi
    fi
    if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        conduit_pg_log "no PostgreSQL 15 binaries in $bin (install Debian's postgresql-15 or set CONDUIT_PG_BIN)"
        return 1
    fi
    echo "$bin"
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
conduit_pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
        return
    fi
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
            echo "$port"
            return
        fi
    done
    conduit_pg_log "found no free port"
    return 1
}

conduit_pg_stop() {
    local state
    state=$(conduit_pg_state_file)
    if [ ! -f "$state" ]; then
        conduit_pg_log "no private PostgreSQL recorded in $state; nothing to stop"
        return 0
    fi
    local PG_BIN="" PG_BASE="" PG_DATA="" PG_PORT="" PG_PID=""
    # shellcheck disable=SC1090
    source "$state"
    if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/PG_VERSION" ]; then
        if ! conduit_pg_as_owner "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >&2; then
            # pg_ctl could not stop it: end exactly the recorded postmaster, if it is still that server.
            if [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null &&
                tr '\0' ' ' <"/proc/$PG_PID/cmdline" 2>/dev/null | grep -qF -- "$PG_DATA"; then
                conduit_pg_log "pg_ctl stop failed; sending SIGQUIT to postmaster $PG_PID"
                kill -QUIT "$PG_PID" 2>/dev/null || true
                for _ in $(seq 1 50); do
                    kill -0 "$PG_PID" 2>/dev/null || break
                    sleep 0.1
                done
            fi
        fi
    fi
    case "$PG_BASE" in
    */conduit-pg.*) rm -rf -- "$PG_BASE" ;;
    *) conduit_pg_log "not removing unexpected directory '$PG_BASE'" ;;
    esac
    rm -f -- "$state"
    conduit_pg_log "stopped PostgreSQL on 127.0.0.1:$PG_PORT"
}

conduit_pg_start() {
    local state bin base data port pid started=0
    state=$(conduit_pg_state_file)
    if [ -f "$state" ]; then
        conduit_pg_log "a previous server is recorded in $state; stopping it first"
        conduit_pg_stop
    fi
    bin=$(conduit_pg_find_bin)
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        conduit_pg_log "there is no 'postgres' OS user to run the server as (it comes with Debian's postgresql-common)"
        return 1
    fi

    base=$(mktemp -d "${CONDUIT_PG_TMPDIR:-/tmp}/conduit-pg.XXXXXXXX")
    chmod 700 "$base"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$base"
    fi
    if ! conduit_pg_as_owner test -w "$base"; then
        rm -rf -- "$base"
        conduit_pg_log "the server's user cannot write to $base; set CONDUIT_PG_TMPDIR to a directory it can reach"
        return 1
    fi
    data="$base/data"
    conduit_pg_as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
        >"$base/initdb.log" 2>&1 || {
        cat "$base/initdb.log" >&2
        rm -rf -- "$base"
        conduit_pg_log "initdb failed"
        return 1
    }
    # Only TCP on 127.0.0.1 (initdb's pg_hba.conf trusts local TCP), our own socket directory, test-speed durability.
    conduit_pg_as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    # The port is free when we look; another process may take it before the server binds, so try a few.
    for _ in 1 2 3 4 5; do
        port=$(conduit_pg_free_port)
        if conduit_pg_as_owner "$bin/pg_ctl" start -D "$data" -l "$base/server.log" -w -t 60 -o "-p $port" >&2; then
            started=1
            break
        fi
        conduit_pg_log "server did not start on port $port; log follows"
        tail -n 20 "$base/server.log" >&2 || true
    done
    if [ "$started" -ne 1 ]; then
        rm -rf -- "$base"
        conduit_pg_log "could not start PostgreSQL"
        return 1
    fi
    pid=$(head -n 1 "$data/postmaster.pid")
    {
        printf 'PG_BIN=%q\n' "$bin"
        printf 'PG_BASE=%q\n' "$base"
        printf 'PG_DATA=%q\n' "$data"
        printf 'PG_PORT=%q\n' "$port"
        printf 'PG_PID=%q\n' "$pid"
    } >"$state"

    conduit_pg_as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres conduit_test || {
        conduit_pg_log "createdb failed"
        conduit_pg_stop
        return 1
    }
    conduit_pg_log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $pid, data $data)"
    CONDUIT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/conduit_test"
    echo "CONDUIT_TEST_POSTGRES_URL=$CONDUIT_TEST_POSTGRES_URL"
}

conduit_pg_main() {
    case "${1:-}" in
    start) conduit_pg_start ;;
    stop) conduit_pg_stop ;;
    *)
        echo "usage: $0 start|stop" >&2
        return 2
        ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    conduit_pg_main "$@"
elif [ $# -gt 0 ]; then
    # Sourced with a command: run it in this shell and export what `start` found.
    conduit_pg_main "$@" >/dev/null
    if [ "$1" = start ]; then
        export CONDUIT_TEST_POSTGRES_URL
    fi
fi
