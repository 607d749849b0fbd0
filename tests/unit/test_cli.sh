#!/bin/sh
# test_cli: every daemon refuses an option it does not know (exit 2, the
# option named on stderr) within a second and without starting: started
# with its service's environment, a daemon would join the live consumer
# group and fence the running instance. --help exits 0. The environment
# points every dependency at a closed port, so a daemon that did start
# would still be running when timeout stops it (exit 124).
#
#   test_cli.sh BINARY...
fail=0
port=$((40000 + $$ % 20000)) # free ports, so a daemon that did start would run
for bin in "$@"; do
    for opt in --version --no-such-option -x; do
        err=$(ONECARD_KAFKA_BROKERS=127.0.0.1:1 ONECARD_REDIS_PORT=1 \
            ONECARD_PG_DSN="host=127.0.0.1 port=1 dbname=none connect_timeout=1" \
            ONECARD_ADMIN_PORT=$port ONECARD_HTTP_PORT=$((port + 1)) \
            timeout 1 "$bin" "$opt" 2>&1 >/dev/null)
        rc=$?
        case $err in *"$opt"*) named=1 ;; *) named=0 ;; esac
        if [ "$rc" -ne 2 ] || [ "$named" -ne 1 ]; then
            echo "FAIL $(basename "$bin") $opt: exit $rc, stderr: $err"
            fail=1
        else
            echo "ok   $(basename "$bin") $opt: exit 2"
        fi
    done
    if ! timeout 1 "$bin" --help >/dev/null 2>&1; then
        echo "FAIL $(basename "$bin") --help: exit $?"
        fail=1
    fi
done
exit $fail
