#!/usr/bin/env bash
# A private RabbitMQ 3.10 (Debian's rabbitmq-server) with the AMQP 1.0 plugin for the test suite: its own node
# name, HOME (Erlang cookie), data, log and config files, its own AMQP, distribution and EPMD ports, all on
# 127.0.0.1 only, the default guest/guest user (allowed from loopback only), no management plugin. It never uses
# or touches the system broker (/etc/rabbitmq, /var/lib/rabbitmq, /root/.erlang.cookie, epmd on 4369): everything
# lives in one temporary directory, and the broker and its epmd run in the foreground of processes whose pids are
# recorded.
#
#   rmq_env=$(bash .ci/rabbitmq.sh start)   # export lines: RABBITMQ_AMQP_PORT, RABBITMQ_NODE, RABBITMQ_PID,
#   eval "$rmq_env"                          # RABBITMQ_DIR, CONDUIT_TEST_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:PORT
#   trap 'bash .ci/rabbitmq.sh stop' EXIT    # stops exactly the broker that `start` recorded, removes its directory
#   bash .ci/rabbitmq.sh declare-queue NAME  # a durable queue NAME in vhost / (optional, see below)
#   bash .ci/rabbitmq.sh stop [DIR]          # DIR, else $RABBITMQ_DIR, else the broker recorded for this checkout
#
# (Assign first and eval after: `eval "$(… start)"` would hide a failed start from `set -e`.)
# The script may also be sourced (`source .ci/rabbitmq.sh start`): then `start` exports the variables itself.
# As root with apt-get, a missing rabbitmq-server is installed (its system service is kept from starting).
# Settings: CONDUIT_RABBITMQ_BIN (default /usr/lib/rabbitmq/bin: the real scripts, not the /usr/sbin wrappers that
# switch to the `rabbitmq` user and /var/lib/rabbitmq), CONDUIT_RABBITMQ_TMPDIR (where the broker's directory
# goes, default ${TMPDIR:-/tmp}), CONDUIT_RABBITMQ_STATE_FILE (where start records the broker for stop; default a
# file in /tmp named after this checkout), CONDUIT_RABBITMQ_START_TIMEOUT (seconds, default 60).
# Progress goes to stderr; stdout carries only the export lines.
#
# Addressing queues over AMQP 1.0 on RabbitMQ 3.10 (deps/rabbitmq_amqp1_0/README.md and src at v3.10.8):
#   target (sender link) address               source (receiver link) address
#   /queue/Q   default exchange, key Q         /queue/Q      consume from Q
#   Q          (no leading slash) same         Q             same
#   /amq/queue/Q  same, no declare (*)         /amq/queue/Q  consume from Q (attach fails if Q is missing)
#   /exchange/X/RK, /exchange/X (subject=key), /topic/RK (amq.topic), /queue (subject=key)
#                                              /exchange/X/RK, /topic/RK: a temporary queue bound to X
# /queue/Q and Q DECLARE the queue on attach (rabbit_routing_util:ensure_endpoint): it is durable exactly when the
# attach's terminus `durable` field (target for a sender, source for a receiver) is configuration (1) or
# unsettled-state (2); with none (0, the default) it is a non-durable, non-exclusive, non-auto-delete queue. If Q
# already exists with the other durability the declare fails (PRECONDITION_FAILED, inequivalent arg 'durable')
# and the attach is refused. (*) /amq/queue/Q declares nothing, so it works whatever the terminus says, but the
# queue must exist (create it with `declare-queue`): to a missing queue, messages are dropped as unroutable. Dynamic terminuses are not supported. The OPEN
# `hostname` field selects the vhost only as "vhost:NAME"; anything else (or none) means the default vhost "/".
# SASL: ANONYMOUS (as guest), PLAIN, AMQPLAIN offered; a bare AMQP header (no SASL) is accepted as guest too.
# What 3.10's plugin does that a client must cope with (seen with a Python client against this broker):
#  - booleans must be encoded 0x41/0x42: 0x56 0x00 in ATTACH.role is not matched ("Unexpected frame", session ended);
#  - rcv-settle-mode second on a link that is not pre-settled: amqp:not-implemented (session ended);
#  - its first FLOW for a client's sending link has delivery-count null (take it as the sender's own count);
#  - its ATTACH reply for a client's receiving link has a null target (not a refusal: the source is set);
#  - OPEN answer: idle-time-out 60000 ms; max-frame-size and channel-max echo the client's values.
set -euo pipefail

conduit_rmq_log() {
    echo "rabbitmq.sh: $*" >&2
}

conduit_rmq_state_file() {
    if [ -n "${CONDUIT_RABBITMQ_STATE_FILE:-}" ]; then
        echo "$CONDUIT_RABBITMQ_STATE_FILE"
        return
    fi
    local here checkout
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    checkout=$(printf '%s' "$here" | cksum | cut -d' ' -f1)
    echo "/tmp/conduit-ci-rabbitmq-$checkout.state"
}

conduit_rmq_find_bin() {
    local bin="${CONDUIT_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}"
    if [ ! -x "$bin/rabbitmq-server" ] || [ ! -x "$bin/rabbitmq-plugins" ]; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            conduit_rmq_log "RabbitMQ not found in $bin; installing Debian's rabbitmq-server (system service kept stopped)"
            # invoke-rc.d and deb-systemd-invoke ask policy-rc.d; 101 = "action forbidden", so the package's own
            # service (and epmd) is not started. Only add one if there is none, and remove only ours.
            local policy=/usr/sbin/policy-rc.d ours=0 rc=0
            if [ ! -e "$policy" ]; then
                printf '#!/bin/sh\n# conduit .ci/rabbitmq.sh: no service starts during the install\nexit 101\n' >"$policy"
                chmod 755 "$policy"
                ours=1
            fi
            {
                DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
                    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >&2
            } || rc=$?
            if [ "$ours" -eq 1 ]; then
                rm -f -- "$policy"
            fi
            if [ "$rc" -ne 0 ]; then
                conduit_rmq_log "apt-get install rabbitmq-server failed"
                return 1
            fi
        fi
    fi
    if [ ! -x "$bin/rabbitmq-server" ] || [ ! -x "$bin/rabbitmq-plugins" ]; then
        conduit_rmq_log "no RabbitMQ scripts in $bin (install Debian's rabbitmq-server or set CONDUIT_RABBITMQ_BIN)"
        return 1
    fi
    if ! command -v epmd >/dev/null 2>&1; then
        conduit_rmq_log "no epmd on PATH (it comes with Debian's erlang-base)"
        return 1
    fi
    echo "$bin"
}

# Prints N distinct TCP ports on 127.0.0.1 that nothing listens on right now (all bound at once, so distinct),
# below 55000.
conduit_rmq_free_ports() {
    local n=$1
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket, sys
socks, ports = [], []
while len(ports) < int(sys.argv[1]):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    p = s.getsockname()[1]
    if p < 55000:
        ports.append(p)
print(" ".join(map(str, ports)))
for s in socks:
    s.close()' "$n"
        return
    fi
    local port ports=""
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 30000))
        case " $ports " in *" $port "*) continue ;; esac
        if ! ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
            ports="${ports:+$ports }$port"
            [ "$(wc -w <<<"$ports")" -ge "$n" ] && {
                echo "$ports"
                return
            }
        fi
    done
    conduit_rmq_log "found no free ports"
    return 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
conduit_rmq_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when process $1 is alive and its command line, or an entry of its initial environment, contains $2.
conduit_rmq_pid_is() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
    { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "$2" && return 0
    { tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qF -- "$2"
}

# Runs a RabbitMQ CLI script ($1 = rabbitmqctl, rabbitmq-plugins, rabbitmq-diagnostics) against the broker
# described by the RMQ_* variables, with the broker's environment (HOME = cookie, EPMD port, config files).
conduit_rmq_cli() {
    local tool=$1
    shift
    (
        cd "$RMQ_DIR"
        conduit_rmq_env
        "$RMQ_BIN/$tool" "$@"
    )
}

# Exports the environment the broker and its CLI tools share (in a subshell's caller).
conduit_rmq_env() {
    export HOME="$RMQ_DIR"
    export ERL_EPMD_PORT="$RMQ_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1
    export ERL_CRASH_DUMP="$RMQ_DIR/erl_crash.dump"
    export RABBITMQ_NODENAME="$RMQ_NODE" RABBITMQ_USE_LONGNAME=false
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$RMQ_AMQP_PORT" RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
    export RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RMQ_DIR/log"
    export RABBITMQ_LOGS="$RMQ_DIR/log/rabbit.log" RABBITMQ_UPGRADE_LOG="$RMQ_DIR/log/upgrade.log"
    export RABBITMQ_PID_FILE="$RMQ_DIR/rabbit.pid" RABBITMQ_PLUGINS_EXPAND_DIR="$RMQ_DIR/plugins-expand"
    export RABBITMQ_FEATURE_FLAGS_FILE="$RMQ_DIR/feature_flags"
    export RABBITMQ_MOTD_FILE="$RMQ_DIR/motd"
    # Distribution on loopback only, and never an epmd of its own (ours runs on ERL_EPMD_PORT, killed by pid).
    # No scheduler busy-waiting: the broker shares two cores with the test suite.
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false -kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"
    export RABBITMQ_CTL_ERL_ARGS="-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}"
    unset RABBITMQ_ALLOW_INPUT NOTIFY_SOCKET RABBITMQ_ERLANG_COOKIE
}

# Reads the state of a broker: from $1 (its directory) if given, else $RABBITMQ_DIR, else the checkout's state file.
conduit_rmq_load() {
    local dir="${1:-${RABBITMQ_DIR:-}}" state
    if [ -n "$dir" ]; then
        state="$dir/state"
    else
        state=$(conduit_rmq_state_file)
    fi
    if [ ! -f "$state" ]; then
        conduit_rmq_log "no private RabbitMQ recorded in $state"
        return 1
    fi
    RMQ_BIN="" RMQ_DIR="" RMQ_NODE="" RMQ_AMQP_PORT="" RMQ_DIST_PORT="" RMQ_EPMD_PORT="" RMQ_PID="" RMQ_EPMD_PID=""
    RMQ_WRAPPER_PID=""
    # shellcheck disable=SC1090
    source "$state"
}

# Ends process $1 (if it still is the one whose command line has $2): SIGTERM, up to $3 seconds, then SIGKILL.
conduit_rmq_end() {
    local pid=$1 marker=$2 secs=$3 i
    conduit_rmq_pid_is "$pid" "$marker" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        # A zombie child of ours counts as gone.
        [ "$({ awk '{print $3}' "/proc/$pid/stat"; } 2>/dev/null)" = Z ] && return 0
        sleep 0.1
    done
    conduit_rmq_log "process $pid did not exit after SIGTERM within ${secs}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
}

conduit_rmq_stop() {
    local state
    state=$(conduit_rmq_state_file)
    if ! conduit_rmq_load "${1:-}" 2>/dev/null; then
        conduit_rmq_log "no private RabbitMQ recorded (${1:-${RABBITMQ_DIR:-$state}}); nothing to stop"
        return 0
    fi
    # The broker (beam.smp, whose command line names our node); SIGTERM makes it shut down cleanly. Then the
    # rabbitmq-server shell that waited for it, then our epmd.
    conduit_rmq_end "$RMQ_PID" "RABBITMQ_NODENAME=$RMQ_NODE" 60
    conduit_rmq_end "$RMQ_WRAPPER_PID" "RABBITMQ_NODENAME=$RMQ_NODE" 10
    conduit_rmq_end "$RMQ_EPMD_PID" "-port $RMQ_EPMD_PORT" 10
    case "$RMQ_DIR" in
    */conduit-rabbitmq.*) rm -rf -- "$RMQ_DIR" ;;
    *) conduit_rmq_log "not removing unexpected directory '$RMQ_DIR'" ;;
    esac
    # Forget this broker in the checkout's state file if that is where it was recorded.
    if [ -f "$state" ] && grep -qF -- "$(printf 'RMQ_DIR=%q' "$RMQ_DIR")" "$state"; then
        rm -f -- "$state"
    fi
    conduit_rmq_log "stopped RabbitMQ $RMQ_NODE on 127.0.0.1:$RMQ_AMQP_PORT"
}

# Records the broker in its directory and in the checkout's state file $1 (rewritten as each pid becomes known).
conduit_rmq_record() {
    {
        printf 'RMQ_BIN=%q\n' "$RMQ_BIN"
        printf 'RMQ_DIR=%q\n' "$RMQ_DIR"
        printf 'RMQ_NODE=%q\n' "$RMQ_NODE"
        printf 'RMQ_AMQP_PORT=%q\n' "$RMQ_AMQP_PORT"
        printf 'RMQ_DIST_PORT=%q\n' "$RMQ_DIST_PORT"
        printf 'RMQ_EPMD_PORT=%q\n' "$RMQ_EPMD_PORT"
        printf 'RMQ_EPMD_PID=%q\n' "${RMQ_EPMD_PID:-}"
        printf 'RMQ_WRAPPER_PID=%q\n' "${RMQ_WRAPPER_PID:-}"
        printf 'RMQ_PID=%q\n' "${RMQ_PID:-}"
    } >"$RMQ_DIR/state"
    cp "$RMQ_DIR/state" "$1"
}

conduit_rmq_start() {
    local state base deadline timeout started=0 t0
    t0=$(date +%s)
    state=$(conduit_rmq_state_file)
    if [ -f "$state" ]; then
        conduit_rmq_log "a previous broker is recorded in $state; stopping it first"
        CONDUIT_RABBITMQ_STATE_FILE="$state" RABBITMQ_DIR="" conduit_rmq_stop
    fi
    RMQ_BIN=$(conduit_rmq_find_bin)
    base="${CONDUIT_RABBITMQ_TMPDIR:-${TMPDIR:-/tmp}}"
    timeout="${CONDUIT_RABBITMQ_START_TIMEOUT:-60}"

    # The ports are free when we look; another process may take one before the broker binds, so try a few.
    for _ in 1 2 3; do
        read -r RMQ_AMQP_PORT RMQ_DIST_PORT RMQ_EPMD_PORT <<<"$(conduit_rmq_free_ports 3)"
        RMQ_DIR="$base/conduit-rabbitmq.$RMQ_AMQP_PORT"
        RMQ_NODE="conduit-$RMQ_AMQP_PORT@localhost"
        if [ -e "$RMQ_DIR" ]; then
            continue
        fi
        mkdir -m 700 "$RMQ_DIR"
        mkdir -p "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
        # The Erlang cookie in our own HOME: nothing in /root or /var/lib/rabbitmq is read or written.
        (umask 077 && od -An -N20 -tx1 /dev/urandom | tr -d ' \n' | tr 'a-f' 'A-F' >"$RMQ_DIR/.erlang.cookie")
        chmod 400 "$RMQ_DIR/.erlang.cookie"
        : >"$RMQ_DIR/rabbitmq-env.conf"
        echo '[].' >"$RMQ_DIR/advanced.config"
        cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$RMQ_AMQP_PORT
loopback_users.guest = true
log.console = false
log.file.level = info
disk_free_limit.absolute = 10MB
# A loaded CI machine may take more than the default 10 s to finish a client's handshake.
handshake_timeout = 60000
EOF
        RMQ_EPMD_PID="" RMQ_WRAPPER_PID="" RMQ_PID=""
        conduit_rmq_record "$state"

        if ! conduit_rmq_cli rabbitmq-plugins --offline enable rabbitmq_amqp1_0 >"$RMQ_DIR/plugins.log" 2>&1; then
            cat "$RMQ_DIR/plugins.log" >&2
            conduit_rmq_log "rabbitmq-plugins --offline enable rabbitmq_amqp1_0 failed"
            CONDUIT_RABBITMQ_STATE_FILE="$state" conduit_rmq_stop "$RMQ_DIR"
            return 1
        fi

        # Our own epmd, in the foreground of a process we know, on the private port and loopback only.
        (
            cd "$RMQ_DIR"
            exec epmd -port "$RMQ_EPMD_PORT" -address 127.0.0.1
        ) </dev/null >"$RMQ_DIR/log/epmd.log" 2>&1 &
        RMQ_EPMD_PID=$!
        conduit_rmq_record "$state"
        for _ in $(seq 1 50); do
            conduit_rmq_port_open "$RMQ_EPMD_PORT" && break
            kill -0 "$RMQ_EPMD_PID" 2>/dev/null || break
            sleep 0.1
        done
        if ! conduit_rmq_port_open "$RMQ_EPMD_PORT"; then
            conduit_rmq_log "epmd did not start on port $RMQ_EPMD_PORT; log follows"
            cat "$RMQ_DIR/log/epmd.log" >&2 || true
            CONDUIT_RABBITMQ_STATE_FILE="$state" conduit_rmq_stop "$RMQ_DIR"
            continue
        fi

        # The broker in the foreground (no -detached): rabbitmq-server stays as a shell that waits for beam.smp.
        (
            cd "$RMQ_DIR"
            conduit_rmq_env
            exec "$RMQ_BIN/rabbitmq-server"
        ) </dev/null >"$RMQ_DIR/log/stdout.log" 2>&1 &
        RMQ_WRAPPER_PID=$!
        conduit_rmq_record "$state"

        deadline=$(($(date +%s) + timeout))
        # rabbit writes its pid file early in boot; the broker's own pid is the one to stop it by.
        while [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$RMQ_WRAPPER_PID" 2>/dev/null; do
            if [ -s "$RMQ_DIR/rabbit.pid" ]; then
                RMQ_PID=$(tr -dc 0-9 <"$RMQ_DIR/rabbit.pid")
                [ -n "$RMQ_PID" ] && break
            fi
            sleep 0.1
        done
        conduit_rmq_record "$state"
        # Then the AMQP listener, which opens at the end of boot, after the plugins.
        while [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$RMQ_WRAPPER_PID" 2>/dev/null; do
            conduit_rmq_port_open "$RMQ_AMQP_PORT" && break
            sleep 0.2
        done
        if conduit_rmq_port_open "$RMQ_AMQP_PORT" &&
            conduit_rmq_cli rabbitmqctl -q -n "$RMQ_NODE" await_startup \
                --timeout $((deadline - $(date +%s) > 1 ? deadline - $(date +%s) : 1)) >>"$RMQ_DIR/log/cli.log" 2>&1 &&
            grep -qE ' \* rabbitmq_amqp1_0$' "$RMQ_DIR/log/rabbit.log"; then
            started=1
            break
        fi
        if kill -0 "$RMQ_WRAPPER_PID" 2>/dev/null; then
            conduit_rmq_log "node $RMQ_NODE did not become ready on 127.0.0.1:$RMQ_AMQP_PORT within ${timeout}s"
        else
            conduit_rmq_log "node $RMQ_NODE exited during startup"
        fi
        local f n
        for f in rabbit.log:40 stdout.log:15 cli.log:10; do
            n=${f#*:}
            f="$RMQ_DIR/log/${f%:*}"
            if [ -s "$f" ]; then
                conduit_rmq_log "last $n lines of $f:"
                tail -n "$n" "$f" >&2
            else
                conduit_rmq_log "$f: empty or not written yet"
            fi
        done
        # A port taken under us is worth another try; a broker that timed out or cannot boot otherwise is not.
        local retry=0
        if grep -qiE 'eaddrinuse|address already in use' "$RMQ_DIR"/log/*.log 2>/dev/null; then
            retry=1
        fi
        CONDUIT_RABBITMQ_STATE_FILE="$state" conduit_rmq_stop "$RMQ_DIR"
        [ "$retry" -eq 1 ] || break
    done
    if [ "$started" -ne 1 ]; then
        conduit_rmq_log "could not start RabbitMQ"
        return 1
    fi

    conduit_rmq_log "RabbitMQ $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null || echo '?') node $RMQ_NODE" \
        "on 127.0.0.1:$RMQ_AMQP_PORT (pid $RMQ_PID, dist $RMQ_DIST_PORT, epmd $RMQ_EPMD_PORT pid $RMQ_EPMD_PID," \
        "dir $RMQ_DIR) ready in $(($(date +%s) - t0))s"
    RABBITMQ_AMQP_PORT=$RMQ_AMQP_PORT
    RABBITMQ_NODE=$RMQ_NODE
    RABBITMQ_PID=$RMQ_PID
    RABBITMQ_DIR=$RMQ_DIR
    CONDUIT_TEST_RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$RMQ_AMQP_PORT"
    printf 'export RABBITMQ_AMQP_PORT=%q\n' "$RABBITMQ_AMQP_PORT"
    printf 'export RABBITMQ_NODE=%q\n' "$RABBITMQ_NODE"
    printf 'export RABBITMQ_PID=%q\n' "$RABBITMQ_PID"
    printf 'export RABBITMQ_DIR=%q\n' "$RABBITMQ_DIR"
    printf 'export CONDUIT_TEST_RABBITMQ_URL=%q\n' "$CONDUIT_TEST_RABBITMQ_URL"
}

# A durable, non-auto-delete classic queue NAME in vhost "/", created through the node itself (there is no
# rabbitmqadmin without the management plugin). Idempotent; fails if NAME exists as a non-durable queue.
conduit_rmq_declare_queue() {
    local name="${1:-}"
    if ! [[ "$name" =~ ^[A-Za-z0-9._:-]{1,200}$ ]]; then
        conduit_rmq_log "declare-queue needs a queue name of letters, digits and . _ : - (got '$name')"
        return 2
    fi
    conduit_rmq_load "${2:-}"
    local out
    out=$(conduit_rmq_cli rabbitmqctl -q -n "$RMQ_NODE" eval "
        case rabbit_amqqueue:declare(rabbit_misc:r(<<\"/\">>, queue, <<\"$name\">>), true, false, [], none,
                                     <<\"guest\">>) of
            {new, Q} -> {new, amqqueue:is_durable(Q)};
            {existing, Q} -> {existing, amqqueue:is_durable(Q)};
            Other -> {error, Other}
        end.") || {
        conduit_rmq_log "declare-queue $name failed: $out"
        return 1
    }
    case "$out" in
    "{new,true}") conduit_rmq_log "declared durable queue '$name' on $RMQ_NODE" ;;
    "{existing,true}") conduit_rmq_log "durable queue '$name' already exists on $RMQ_NODE" ;;
    "{existing,false}")
        conduit_rmq_log "queue '$name' already exists on $RMQ_NODE and is not durable"
        return 1
        ;;
    *)
        conduit_rmq_log "declare-queue $name: unexpected answer $out"
        return 1
        ;;
    esac
}

conduit_rmq_main() {
    case "${1:-}" in
    start) conduit_rmq_start ;;
    stop) conduit_rmq_stop "${2:-}" ;;
    declare-queue) conduit_rmq_declare_queue "${2:-}" "${3:-}" ;;
    *)
        echo "usage: $0 start | stop [DIR] | declare-queue NAME [DIR]" >&2
        return 2
        ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    conduit_rmq_main "$@"
elif [ $# -gt 0 ]; then
    # Sourced with a command: run it in this shell and export what `start` found.
    if [ "$1" = start ]; then
        conduit_rmq_out=$(conduit_rmq_main "$@")
        eval "$conduit_rmq_out"
        unset conduit_rmq_out
    else
        conduit_rmq_main "$@"
    fi
fi
