#!/bin/sh
# test_cli: the command-line convention of every binary (libs/common/cli.h).
# An option or a command the binary does not know, and an argument after
# `serve`, are usage errors: exit 2 within a second, the word named on
# stderr, nothing started. Started with its service's environment, a daemon
# would join the live consumer group and fence the running instance. The
# environment points every dependency at a closed port, so a daemon that
# did start would still be running when timeout stops it (exit 124).
# --help and --version exit 0. (tests/e2e/test_cli.py has the full table:
# every command's --help, ports, a command beside its daemon.)
#
#   test_cli.sh BINARY...
fail=0
port=$((40000 + $$ % 20000)) # free ports, so a daemon that did start would run
for bin in "$@"; do
    for args in --no-such-option -x --versio no-such-command "serve extra"; do
        # shellcheck disable=SC2086 # "serve extra" is two words
        err=$(ONECARD_KAFKA_BROKERS=127.0.0.1:1 ONECARD_REDIS_PORT=1 \
            ONECARD_PG_DSN="host=127.0.0.1 port=1 dbname=none connect_timeout=1" \
            ONECARD_ADMIN_PORT=$port ONECARD_HTTP_PORT=$((port + 1)) \
            timeout 1 "$bin" $args 2>&1 >/dev/null)
        rc=$?
        word=${args##* }
        case $err in *"$word"*) named=1 ;; *) named=0 ;; esac
        if [ "$rc" -ne 2 ] || [ "$named" -ne 1 ]; then
            echo "FAIL $(basename "$bin") $args: exit $rc, stderr: $err"
            fail=1
        else
            echo "ok   $(basename "$bin") $args: exit 2"
        fi
    done
    for opt in --help --version; do
        if ! timeout 1 "$bin" $opt >/dev/null 2>&1; then
            echo "FAIL $(basename "$bin") $opt: exit $?"
            fail=1
        fi
    done
done
exit $fail
