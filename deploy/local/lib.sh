# shellcheck shell=bash
#
# lib.sh: helpers for deploy/local/stack. Sourced, never run.
#
# What is here: messages and timing, process checks by pid file ("is the pid
# in this file alive and the kind of process we started?"), port checks, a
# detached launcher that records the real pid, bounded waits, and the fast
# Kafka topic creator. Nothing here starts or stops a component by itself:
# the order and the policy live in `stack`.

# ---------------------------------------------------------------------------
# Messages and timing
# ---------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
warn() { printf 'stack: warning: %s\n' "$*" >&2; }
die() {
    printf 'stack: error: %s\n' "$*" >&2
    exit 1
}

# now_ms: wall clock in milliseconds (bash 5's EPOCHREALTIME, no fork).
now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    printf '%s\n' "$((t / 1000))"
}

# fmt_ms MS: "1.234s".
fmt_ms() {
    local ms=$1
    printf '%d.%03ds' "$((ms / 1000))" "$((ms % 1000))"
}

# log_tail FILE [N]: the last N lines of a log, indented, to stderr; only
# from the latest "=== ... stack up ===" line on, when the file has one.
log_tail() {
    local file=$1 n=${2:-30}
    if [[ -r $file ]]; then
        printf -- '--- last lines (up to %d) of %s ---\n' "$n" "$file" >&2
        tac -- "$file" | sed '/^=== .* stack up/q' | tac | tail -n "$n" | sed 's/^/    /' >&2
        printf -- '---\n' >&2
    else
        printf 'stack: (no log at %s)\n' "$file" >&2
    fi
}

# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

# pid_read FILE: print the first line of a pid file if it is a number.
pid_read() {
    local file=$1 pid
    [[ -r $file ]] || return 1
    read -r pid <"$file" || true
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    printf '%s\n' "$pid"
}

# proc_cmdline PID: the process's argv joined by spaces ("" if gone).
proc_cmdline() {
    local pid=$1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null
}

# proc_is PID KIND [NEEDLE]: true when PID is alive and is the kind of
# process we start for KIND (and, when NEEDLE is given, its command line
# contains NEEDLE: our config path, data dir or port). This keeps a stale pid
# file, whose number the kernel has since given to something else (say the
# system PostgreSQL), from being taken for ours.
proc_is() {
    local pid=$1 kind=$2 needle=${3:-} comm cmd argv0
    [[ -n $pid && -d /proc/$pid ]] || return 1
    read -r comm <"/proc/$pid/comm" 2>/dev/null || return 1
    grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 1
    cmd=$(proc_cmdline "$pid") || return 1
    if [[ -n $needle && $cmd != *"$needle"* ]]; then
        return 1
    fi
    case $kind in
    kafka) [[ $comm == java && $cmd == *" kafka.Kafka "* ]] ;;
    redis) [[ $comm == redis-server ]] ;;
    postgres) [[ $comm == postgres || $comm == postmaster ]] ;;
    *)
        # A service: argv[0] is ".../bin/onecard-<name>". comm is cut at 15
        # characters, so match on argv[0].
        argv0=${cmd%% *}
        [[ ${argv0##*/} == "onecard-$kind" ]]
        ;;
    esac
}

# pid_live FILE KIND [NEEDLE]: print the pid if FILE names a live process of
# KIND (see proc_is).
pid_live() {
    local pid
    pid=$(pid_read "$1") || return 1
    proc_is "$pid" "$2" "${3:-}" || return 1
    printf '%s\n' "$pid"
}

# rss_kb PID: VmRSS of one process in kB ("0" if unknown).
rss_kb() {
    local v
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null)
    printf '%s\n' "${v:-0}"
}

# rss_tree_kb PID: VmRSS of PID plus its direct children, in kB (PostgreSQL
# is a postmaster plus a handful of backends; shared memory is counted once
# per process that touched it, so this overstates a little).
rss_tree_kb() {
    local pid=$1 total child
    total=$(rss_kb "$pid")
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        total=$((total + $(rss_kb "$child")))
    done
    printf '%s\n' "$total"
}

# fmt_kb KB: "123.4 MiB".
fmt_kb() {
    local kb=$1
    printf '%d.%d MiB' "$((kb / 1024))" "$(((kb % 1024) * 10 / 1024))"
}

# launch PIDFILE LOGFILE CMD...: start CMD detached (own session, stdin from
# /dev/null, stdout and stderr appended to LOGFILE) and write its pid to
# PIDFILE. The pid is written by the process itself just before exec, so it
# is the daemon's own pid whatever setsid does about forking.
launch() {
    local pidfile=$1 logfile=$2
    shift 2
    rm -f -- "$pidfile"
    # shellcheck disable=SC2016 # $$ and $1 belong to the inner shell.
    setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' onecard-launch "$pidfile" "$@" \
        >>"$logfile" 2>&1 </dev/null &
    local i pid cmd
    for ((i = 0; i < 250; i++)); do
        # Wait for the pid file, then for the exec that replaces the launcher.
        if pid=$(pid_read "$pidfile"); then
            cmd=$(proc_cmdline "$pid") || return 1
            [[ $cmd != *onecard-launch* ]] && return 0
        fi
        sleep 0.02
    done
    return 1
}

# stop_pid NAME PID KIND TIMEOUT_S: SIGTERM, wait up to TIMEOUT_S, SIGKILL.
# Only a process that still is of KIND is signalled.
stop_pid() {
    local name=$1 pid=$2 kind=$3 timeout=$4 t0 waited
    t0=$(now_ms)
    proc_is "$pid" "$kind" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while proc_is "$pid" "$kind"; do
        waited=$(($(now_ms) - t0))
        if ((waited > timeout * 1000)); then
            warn "$name (pid $pid) still running after ${timeout}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.1
    done
    say "$(printf '%-12s stopped (pid %s) in %s' "$name" "$pid" "$(fmt_ms $(($(now_ms) - t0)))")"
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

# port_listeners PORT: the `ss` lines of whatever listens on TCP PORT, on any
# address (empty when free).
port_listeners() {
    ss -Hltnp "( sport = :$1 )" 2>/dev/null
}

# port_free_or_die COMPONENT PORT: fail loudly if anything listens on PORT.
# Called only for components that are not running (per their pid file), so a
# listener is never ours to share.
port_free_or_die() {
    local comp=$1 port=$2 who
    who=$(port_listeners "$port")
    [[ -z $who ]] && return 0
    printf 'stack: error: port %s (for %s) is already in use by something that is not this stack:\n' \
        "$port" "$comp" >&2
    printf '    %s\n' "$who" >&2
    printf 'stack: stop it, or move this stack with the ONECARD_*_PORT variables (see deploy/local/README.md)\n' >&2
    exit 1
}

# ---------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------

# wait_until TIMEOUT_S PID KIND CMD...: run CMD every 0.1 s until it succeeds
# (0), the process PID of KIND dies (1), or TIMEOUT_S passes (2). PID may be
# "" when there is no process to watch.
wait_until() {
    local timeout=$1 pid=$2 kind=$3 deadline
    shift 3
    deadline=$(($(now_ms) + timeout * 1000))
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        if [[ -n $pid ]] && ! proc_is "$pid" "$kind"; then
            return 1
        fi
        (($(now_ms) > deadline)) && return 2
        sleep 0.1
    done
}

# ---------------------------------------------------------------------------
# Kafka topics
# ---------------------------------------------------------------------------

# topics_read FILE: "name partitions configs" (configs: k=v,k=v or -),
# comments and blanks dropped.
topics_read() {
    awk '!/^[[:space:]]*(#|$)/ { print $1, $2, ($3 == "" ? "-" : $3) }' "$1"
}

# topics_existing BROKER KCAT_CONF: "name partitions" for every topic the
# broker has, asked as the principal of KCAT_CONF (a kcat -F file).
topics_existing() {
    kcat -F "$2" -b "$1" -L -m 10 2>/dev/null |
        sed -n 's/^  topic "\([^"]*\)" with \([0-9]*\) partitions:$/\1 \2/p'
}

