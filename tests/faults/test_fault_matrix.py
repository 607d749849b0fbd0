"""The fault matrix: under steady terminal traffic, one fault at a time
(kill -9 of each service; Kafka, Redis and PostgreSQL stopped and started;
Redis wiped and rebuilt), then everything must catch up with nothing lost,
nothing duplicated and not a fen of difference:

- every approval a terminal saw is one swipe entry in the ledger (matched
  by swipe id), and no entry exists that no terminal saw approved;
- the approved amounts equal the ledger's swipe amounts, card by card;
- no approval is answered while the broker is down;
- `onecard-ledger reconcile` reports no difference.

Terminals do what the contract tells them: a 503 is retried with the same
request_id until the answer is final. Each fault gets fresh cards, funded by
top-ups through the ledger. At the end a table is printed: fault, recovery
time (from the fault until the component is back and a swipe sent after
that is approved), swipes, lost, duplicated, fen difference.
"""
import os
import random
import signal
import shutil
import threading
import time
import uuid

import pytest

from conftest import SERVICES, http_get
from gateway_client import Terminal
from test_ledger import (ITEM, funded_card, led, ledger, ledger_caught_up, produce,  # noqa: F401
                         redis, wait_for, wallet)

RESULTS = []


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    print("\n\nfault matrix\n%-24s %10s %7s %5s %10s %8s" % (
        "fault", "recovery_s", "swipes", "lost", "duplicated", "fen_diff"))
    for r in RESULTS:
        print("%-24s %10.1f %7d %5d %10d %8d" % r)


class Terminals:
    """Honest terminals on fresh cards. Every answer is kept; a 503 is sent
    again with the same request_id until it is final."""

    def __init__(self, led, cards, threads=4):
        self.led, self.cards = led, cards
        self.stop, self.lock = threading.Event(), threading.Lock()
        self.approved = {}  # swipe_id -> (card, amount)
        self.answers = []   # (sent, answered, status, decision)
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def swipe_until_final(self, t, card, amount):
        request_id = uuid.uuid4().hex
        deadline = time.monotonic() + 120
        while True:
            sent = time.monotonic()
            try:
                st, doc = t.swipe(card, amount, item=ITEM, request_id=request_id)
            except (OSError, ValueError):
                st, doc = 0, {}
            decision = doc.get("decision") if st == 200 else None
            with self.lock:
                self.answers.append((sent, time.monotonic(), st, decision))
                if decision == "approved":
                    self.approved[doc["swipe_id"]] = (card, amount)
            if st not in (0, 503) or time.monotonic() > deadline:
                return
            time.sleep(0.2)  # the same request again: the contract's retry

    def run(self):
        t = Terminal(self.led["stack"].gateway_port, self.led["terminal"], "secret-l")
        while not self.stop.is_set():
            self.swipe_until_final(t, random.choice(self.cards), random.randrange(100, 900))
            time.sleep(0.01)

    def approved_after(self, when):
        with self.lock:
            return any(a[0] > when and a[3] == "approved" for a in self.answers)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(150)


def pid_of(stack, name):
    with open(os.path.join(stack.state, "pids", name + ".pid")) as f:
        return int(f.read().split()[0])


def ready(stack, service):
    return http_get("http://127.0.0.1:%d/readyz" % stack.admin_port(service), 2)[0] == 200


def kill_9(service):
    def fault(stack):
        os.kill(pid_of(stack, service), signal.SIGKILL)
        time.sleep(1)
        r = stack.run("up", check=False, env={"ONECARD_SERVICES": service})
        assert r.returncode == 0, r.stdout + r.stderr
        return [service]
    return fault


def stop_start(component, down_s=4):
    def fault(stack):
        r = stack.run("stop", component, timeout=120)
        assert "stopped" in r.stdout, r.stdout + r.stderr
        t_down = time.monotonic()
        time.sleep(down_s)
        t_up = time.monotonic()
        r = stack.up_or_start("start", component, timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr
        return (t_down, t_up)
    return fault


def wipe_redis(stack):
    """Redis loses everything; the directory is loaded again (as the
    registry's rebuild does) and the ledger rebuilds balances, holds and caps."""
    r = stack.run("stop", "redis", timeout=60)
    assert "stopped" in r.stdout, r.stdout + r.stderr
    for name in os.listdir(os.path.join(stack.state, "redis")):
        path = os.path.join(stack.state, "redis", name)
        if name != "redis.conf":
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    r = stack.up_or_start("start", "redis", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert redis(stack, "DBSIZE") == "0"
    WIPED.append(True)
    return ["gateway", "ledger"]


WIPED = []

FAULTS = [("kill -9 %s" % s, kill_9(s)) for s in SERVICES] + [
    ("kafka stopped 4 s", stop_start("kafka")),
    ("redis stopped 4 s", stop_start("redis")),
    ("postgres stopped 4 s", stop_start("postgres")),
    ("redis wiped, rebuilt", wipe_redis),
]


@pytest.mark.parametrize("name,fault", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault(led, name, fault):
    stack = led["stack"]
    cards = [funded_card(led, 10 ** 7) for _ in range(4)]
    led.setdefault("all_cards", []).extend(cards)
    for c in cards:
        wait_for(lambda: wallet(stack, c) == str(10 ** 7), what="the top-ups")
    outage = None
    with Terminals(led, cards) as terms:
        wait_for(lambda: terms.approved_after(time.monotonic() - 1), 30, "a first approval")
        time.sleep(1)
        t_fault = time.monotonic()
        out = fault(stack)
        if isinstance(out, tuple):  # a component stopped from out[0] to out[1]
            outage = out
        if WIPED and name.startswith("redis wiped"):
            restore_after_wipe(led, cards)
        t_repaired = time.monotonic()
        wait_for(lambda: all(ready(stack, s) for s in SERVICES), 120, "every service ready")
        wait_for(lambda: terms.approved_after(t_repaired), 120, "an approval after the fault")
        recovery = time.monotonic() - t_fault
        time.sleep(2)
    wait_for(lambda: ledger_caught_up(stack), 120, "the ledger to catch up")

    # the terminals' approvals against the ledger's entries, by swipe id
    rows = stack.psql("SELECT swipe_id, amount_fen FROM ledger_entries WHERE kind = 'swipe' AND "
                      "card_no IN ('%s')" % "','".join(cards))
    entries = {}
    for line in rows.splitlines():
        sid, amount = line.split("|")
        entries.setdefault(sid, []).append(int(amount))
    lost = [s for s in terms.approved if s not in entries]
    duplicated = [s for s, v in entries.items() if s not in terms.approved or len(v) > 1]
    fen_diff = (sum(a for _, a in terms.approved.values())
                - sum(sum(v) for v in entries.values()))
    RESULTS.append((name, recovery, len(terms.approved), len(lost), len(duplicated), fen_diff))

    assert not lost, "approved, never posted: %s" % lost[:5]
    assert not duplicated, "posted without an approval, or twice: %s" % duplicated[:5]
    assert fen_diff == 0
    if outage and name.startswith("kafka"):
        during = [a for a in terms.answers if a[0] > outage[0] and a[1] < outage[1]]
        assert not [a for a in during if a[3] == "approved"], "approved while the broker was down"
    r = ledger(stack, "reconcile", "--card-prefix", led["prefix"], "--retries", "10", check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def restore_after_wipe(led, cards):
    """The directory again (what the registry's rebuild-directory does for
    registered cards), then balances, holds and caps from the ledger."""
    from gateway_client import dirload
    stack = led["stack"]
    lines = ["item %s rehab 50000 0 0 rehabilitation" % ITEM,
             "provider %s active rehabilitation %s" % (led["provider"], ITEM),
             "terminal %s %s secret-l active" % (led["terminal"], led["provider"])]
    for card in led["all_cards"]:
        lines += ["card %s person-%s active 123456" % (card, card[-6:]),
                  "entitlement %s %s 0 0 %s" % (card, ITEM, led["fund"])]
    dirload(stack, lines)
    out = ledger(stack, "rebuild-cache").stdout
    assert "rebuild-cache:" in out, out
