"""The benches keep the books: tools/bench/gateway-bench against the test
stack (its cards funded through the ledger by tools/bench/bench-cards, a
short paced load through the gateway, the Redis ceiling on scratch state,
the pgbench baseline in a scratch schema), then `onecard-ledger reconcile`
of the bench cards is OK and every approved swipe is an ordinary ledger
entry of the bench provider.
"""
import json
import os
import subprocess
import time

from conftest import BUILD, REPO, kcat

BENCH = os.path.join(REPO, "tools", "bench")
CARD_PREFIX = "622288"  # tools/swipe-bench/fixtures.c
PROVIDER = "PBENCH"


def ledger(stack, *args):
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port))
    return subprocess.run([os.path.join(BUILD, "bin", "onecard-ledger")] + list(args),
                          env=env, capture_output=True, text=True, timeout=120)


def caught_up(stack):
    """Every swipe and top-up on the broker is committed by the ledger, and
    every posting and Redis effect acknowledged."""
    hw = 0
    for topic in ("onecard.swipes.v1", "onecard.topups.v1"):
        for p in range(6):
            out = subprocess.run([*kcat(), "-b", stack.brokers, "-Q", "-t",
                                  "%s:%d:-1" % (topic, p)], capture_output=True, text=True)
            hw += int(out.stdout.split()[-1]) if out.returncode == 0 and out.stdout else 0
    stored = int(stack.psql("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE "
                            "consumer_group = 'onecard-ledger'"))
    return stored == hw and int(stack.psql("SELECT count(*) FROM ledger_outbox")) == 0


def reconcile_ok(stack):
    deadline = time.time() + 60
    while not caught_up(stack):
        assert time.time() < deadline, "the ledger did not catch up in 60 s"
        time.sleep(0.2)
    r = ledger(stack, "reconcile", "--card-prefix", CARD_PREFIX, "--retries", "5")
    assert r.returncode == 0 and "reconcile: OK" in r.stdout, r.stdout + r.stderr
    return r.stdout


def bench_swipes(stack):
    return int(stack.psql("SELECT count(*) FROM ledger_entries WHERE kind = 'swipe' AND "
                          "provider_id = '%s'" % PROVIDER))


def test_gateway_bench_keeps_the_books(stack):
    env = dict(stack.env, ONECARD_BUILD=BUILD)
    before = bench_swipes(stack)
    r = subprocess.run([os.path.join(BENCH, "gateway-bench"), "--duration", "4", "--warmup", "0",
                        "--connections", "8", "--terminals", "10", "--cards", "200",
                        "--rate", "300", "--redis-requests", "3000", "--pg-duration", "1",
                        "--pg-cards", "100", "--settle-idle", "0"],
                       env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads(r.stdout)
    approved = doc["gateway"]["approved"]
    assert approved > 0 and doc["gateway"]["errors"] == 0, doc["gateway"]
    assert doc["redis_ceiling_per_s"] > 0

    # the cards were funded through the ledger: a top-up entry each, from
    # the bench's own fund, allocated first
    assert int(stack.psql("SELECT count(DISTINCT card_no) FROM ledger_entries WHERE kind = "
                          "'topup' AND fund_source = 'bench' AND card_no LIKE '%s%%'"
                          % CARD_PREFIX)) == 200
    assert int(stack.psql("SELECT count(*) FROM ledger_entries WHERE kind = 'allocation' AND "
                          "fund_source = 'bench'")) >= 1

    # the load's approvals are ordinary ledger entries; the Redis ceiling's
    # scratch approvals left nothing behind; the books balance
    reconcile_ok(stack)
    assert bench_swipes(stack) - before == approved

    # a second setup tops the cards back up through the ledger, and still
    # balances
    r = subprocess.run([os.path.join(BENCH, "bench-cards"), "--cards", "200", "--terminals",
                        "10"], env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "reconcile --card-prefix %s: OK" % CARD_PREFIX in r.stderr
    reconcile_ok(stack)
