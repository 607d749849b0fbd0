"""The fault matrix: under steady terminal traffic, one fault at a time
(kill -9 of each service; Kafka, Redis and PostgreSQL stopped and started;
Redis wiped and rebuilt), then everything must catch up with nothing lost,
nothing duplicated and not a fen of difference:

- every approval a terminal saw is one swipe entry in the ledger (matched
  by swipe id), and no entry exists that no terminal saw approved;
- the approved amounts equal the ledger's swipe amounts, card by card;
- no approval is answered while the broker is down;
- `onecard-ledger reconcile` reports no difference.

Requests in flight when a gateway dies (a swipe, a reversal or a rating the
gateway has applied in Redis and not yet seen acknowledged) are finished by
another gateway: two more tests kill the gateway with reversals and ratings
in the traffic, and kill it while the broker is frozen (every request in
flight then dies with it), with a standby gateway taking over or with the
gateway restarted. Each checks the books to the fen: swipes and reversals
the terminals saw against the ledger's entries, every accepted rating
counted once by the rating service, no negative wallet, settlement equal to
swipes minus reversals, and `reconcile`. A second table gives, for the
requests in flight at the kill, the time from the kill to their final
answer (p50 and max).

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

import subprocess

import pytest

from conftest import BUILD, SERVICES, SPARE_ADMIN_PORTS, SPARE_GATEWAY_PORT, http_get
from gateway_client import Terminal
from test_ledger import (ITEM, funded_card, led, ledger, ledger_caught_up, produce,  # noqa: F401
                         redis, wait_for, wallet)

RESULTS = []
IN_FLIGHT = []  # fault, swipes, reversals, ratings, in flight, p50 s, max s, fen_diff


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    print("\n\nfault matrix\n%-24s %10s %7s %5s %10s %8s" % (
        "fault", "recovery_s", "swipes", "lost", "duplicated", "fen_diff"))
    for r in RESULTS:
        print("%-24s %10.1f %7d %5d %10d %8d" % r)
    print("\nrequests in flight at a gateway kill: from the kill to the final answer\n"
          "%-44s %6s %9s %7s %9s %6s %6s %8s" % (
              "fault", "swipes", "reversals", "ratings", "in_flight", "p50_s", "max_s",
              "fen_diff"))
    for r in IN_FLIGHT:
        print("%-44s %6d %9d %7d %9d %6.1f %6.1f %8d" % r)


class Terminals:
    """Honest terminals on fresh cards. Every answer is kept; a 503 is sent
    again with the same request_id until it is final."""

    def __init__(self, led, cards, threads=4, mix=False):
        self.led, self.cards, self.mix = led, cards, mix
        self.stop, self.lock = threading.Event(), threading.Lock()
        self.approved = {}  # swipe_id -> (card, amount)
        self.reversed = {}  # swipe_id -> amount, the terminal heard "reversed"
        self.rated = set()  # swipe ids whose rating the terminal heard accepted
        self.answers = []   # (sent, answered, status, decision)
        self.finals = []    # (kind, first sent, final answer at) of every request
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def swipe_until_final(self, t, card, amount):
        request_id = uuid.uuid4().hex
        first = time.monotonic()
        deadline = first + 120
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
                with self.lock:
                    self.finals.append(("swipe", first, time.monotonic()))
                return
            time.sleep(0.2)  # the same request again: the contract's retry

    def until_final(self, kind, send):
        """A reversal or a rating, sent again until its answer is final."""
        first = time.monotonic()
        while True:
            try:
                st, doc = send()
            except (OSError, ValueError):
                st, doc = 0, {}
            if st not in (0, 503) or time.monotonic() > first + 120:
                with self.lock:
                    self.finals.append((kind, first, time.monotonic()))
                return st, doc or {}
            time.sleep(0.2)

    def run(self):
        t = Terminal(self.led["stack"].gateway_port, self.led["terminal"], "secret-l")
        while not self.stop.is_set():
            before = set(self.approved)
            self.swipe_until_final(t, random.choice(self.cards), random.randrange(100, 900))
            new = [s for s in set(self.approved) - before]
            if self.mix and new:
                sid, roll = new[0], random.random()
                if roll < 0.3:
                    rid = uuid.uuid4().hex
                    st, doc = self.until_final("reversal", lambda: t.reverse(sid, rid))
                    if st == 200 and doc.get("decision") == "reversed":
                        with self.lock:
                            self.reversed[sid] = self.approved[sid][1]
                elif roll < 0.6:
                    rid = uuid.uuid4().hex
                    st, _ = self.until_final("rating", lambda: t.rate(sid, 4, rid))
                    if st == 202:
                        with self.lock:
                            self.rated.add(sid)
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


# ------------------------------------------------ requests in flight at a kill

def card_list(cards):
    return "'%s'" % "','".join(cards)


def check_books(led, cards, approved, reversed_, rated):
    """The terminals' view against every service's books, to the fen.
    Returns the fen difference (asserted to be 0)."""
    stack = led["stack"]
    wait_for(lambda: ledger_caught_up(stack), 120, "the ledger to catch up")
    entries, reversals = {}, {}
    rows = stack.psql("SELECT kind, swipe_id, amount_fen FROM ledger_entries WHERE kind IN "
                      "('swipe', 'reversal') AND card_no IN (%s)" % card_list(cards))
    for line in rows.splitlines():
        kind, sid, amount = line.split("|")
        (entries if kind == "swipe" else reversals).setdefault(sid, []).append(int(amount))
    lost = [s for s in approved if s not in entries]
    duplicated = [s for s, v in entries.items() if s not in approved or len(v) > 1]
    assert not lost, "approved, never posted: %s" % lost[:5]
    assert not duplicated, "posted without an approval, or twice: %s" % duplicated[:5]
    rv_lost = [s for s in reversed_ if s not in reversals]
    rv_extra = [s for s, v in reversals.items() if s not in reversed_ or len(v) > 1]
    assert not rv_lost, "reversed at the terminal, never posted: %s" % rv_lost[:5]
    assert not rv_extra, "a reversal posted that no terminal heard, or twice: %s" % rv_extra[:5]
    fen_diff = ((sum(a for _, a in approved.values()) - sum(reversed_.values()))
                - (sum(sum(v) for v in entries.values()) - sum(sum(v) for v in reversals.values())))
    assert fen_diff == 0, fen_diff
    # no wallet below zero, in the journal or in Redis
    neg = stack.psql("SELECT count(*) FROM ledger_accounts WHERE kind = 'wallet' AND "
                     "balance_fen > 0 AND card_no IN (%s)" % card_list(cards))  # credit-normal
    assert neg == "0", "%s wallets below zero in the journal" % neg
    for c in cards:
        assert int(wallet(stack, c) or 0) >= 0, "wallet of …%s below zero in Redis" % c[-4:]
    # settlement: swipes minus reversals, to the fen
    net = sum(sum(v) for v in entries.values()) - sum(sum(v) for v in reversals.values())
    sql = ("SELECT coalesce(sum(CASE kind WHEN 'swipe' THEN amount_fen ELSE -amount_fen END), 0) "
           "FROM settlement_postings WHERE kind IN ('swipe', 'reversal') AND card_no IN (%s)"
           % card_list(cards))
    wait_for(lambda: int(stack.psql(sql)) == net, 120,
             "settlement to hold swipes minus reversals (%d fen)" % net)
    # every rating the terminals heard accepted reached the rating service,
    # once, and none that they did not
    if rated:
        ids = card_list(sorted(rated))
        seen = ("SELECT count(DISTINCT swipe_id) FROM (SELECT swipe_id FROM rating_accepted "
                "UNION ALL SELECT swipe_id FROM rating_rejected) r WHERE swipe_id IN (%s)" % ids)
        wait_for(lambda: int(stack.psql(seen)) == len(rated), 120,
                 "the rating service to see every accepted rating")
    acc = stack.psql("SELECT swipe_id FROM rating_accepted WHERE card_no IN (%s)"
                     % card_list(cards)).split()
    assert len(acc) == len(set(acc)), "a swipe rated twice"
    assert set(acc) <= rated, "a rating counted that no terminal heard accepted: %s" % (
        set(acc) - rated)
    r = ledger(stack, "reconcile", "--card-prefix", led["prefix"], "--retries", "10",
               check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return fen_diff


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0


def test_gateway_kill_with_reversals_and_ratings_in_flight(led):
    stack = led["stack"]
    cards = [funded_card(led, 10 ** 7) for _ in range(4)]
    led.setdefault("all_cards", []).extend(cards)
    for c in cards:
        wait_for(lambda: wallet(stack, c) == str(10 ** 7), what="the top-ups")
    with Terminals(led, cards, threads=6, mix=True) as terms:
        wait_for(lambda: len(terms.reversed) >= 3 and len(terms.rated) >= 3, 60,
                 "reversals and ratings in the traffic")
        t_kill = time.monotonic()
        os.kill(pid_of(stack, "gateway"), signal.SIGKILL)
        time.sleep(1)
        r = stack.run("up", check=False, env={"ONECARD_SERVICES": "gateway"})
        assert r.returncode == 0, r.stdout + r.stderr
        wait_for(lambda: ready(stack, "gateway"), 120, "the gateway ready")
        wait_for(lambda: terms.approved_after(time.monotonic() - 1), 120, "an approval after")
        time.sleep(3)
    with terms.lock:
        waits = [f[2] - t_kill for f in terms.finals if f[1] < t_kill < f[2]]
    fen = check_books(led, cards, dict(terms.approved), dict(terms.reversed), set(terms.rated))
    IN_FLIGHT.append(("kill -9 gateway, reversals+ratings in traffic", len(terms.approved),
                      len(terms.reversed), len(terms.rated), len(waits), quantile(waits, 0.5),
                      max(waits or [0.0]), fen))


def standby_gateway(stack):
    """A second gateway on the spare ports, as a load balancer's other
    member would be."""
    admin, port = SPARE_ADMIN_PORTS[0], SPARE_GATEWAY_PORT
    env = dict(stack.env, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port), ONECARD_HTTP_PORT=str(port),
               ONECARD_ADMIN_PORT=str(admin))
    p = subprocess.Popen([os.path.join(BUILD, "bin", "onecard-gateway")], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: http_get("http://127.0.0.1:%d/readyz" % admin, 2)[0] == 200, 30,
             "the standby gateway ready")
    return p, port, admin


@pytest.mark.parametrize("standby", [True, False],
                         ids=["standby gateway takes over", "gateway restarted"])
def test_gateway_killed_while_the_broker_is_frozen(led, standby):
    """20 approved swipes; the broker frozen; 10 reversals, 10 ratings and
    10 new swipes sent; the gateway killed -9 0.7 s later (every one of the
    30 dies with it, applied in Redis, its event unacknowledged); the broker
    resumed (what the dead gateway sent may now reach the log). Every
    request must then come to its real final answer, once, to the fen."""
    stack = led["stack"]
    cards = [funded_card(led, 10 ** 7) for _ in range(3)]
    led.setdefault("all_cards", []).extend(cards)
    for c in cards:
        wait_for(lambda: wallet(stack, c) == str(10 ** 7), what="the top-ups")
    main = Terminal(stack.gateway_port, led["terminal"], "secret-l")
    approved = {}
    for i in range(20):
        card, amount = cards[i % 3], 1000 + i
        st, doc = main.swipe(card, amount, item=ITEM)
        assert st == 200 and doc["decision"] == "approved", (st, doc)
        approved[doc["swipe_id"]] = (card, amount)
    sids = list(approved)
    proc = standby_gateway(stack) if standby else None
    # the 30 requests: (kind, request_id, send(terminal))
    reqs = [("reversal", uuid.uuid4().hex, sid) for sid in sids[:10]]
    reqs += [("rating", uuid.uuid4().hex, sid) for sid in sids[10:]]
    reqs += [("swipe", uuid.uuid4().hex, (cards[i % 3], 2000 + i)) for i in range(10)]

    def send(t, kind, rid, what):
        if kind == "reversal":
            return t.reverse(what, rid)
        if kind == "rating":
            return t.rate(what, 5, rid)
        return t.swipe(what[0], what[1], item=ITEM, request_id=rid)

    first = {}

    def once(req):
        t = Terminal(stack.gateway_port, led["terminal"], "secret-l")
        try:
            first[req[1]] = send(t, *req)[0]
        except (OSError, ValueError):
            first[req[1]] = 0

    kafka = pid_of(stack, "kafka")
    os.kill(kafka, signal.SIGSTOP)
    try:
        threads = [threading.Thread(target=once, args=(r,), daemon=True) for r in reqs]
        for th in threads:
            th.start()
        time.sleep(0.7)  # applied in Redis, waiting for the broker's report
        t_kill = time.monotonic()
        os.kill(pid_of(stack, "gateway"), signal.SIGKILL)
        for th in threads:
            th.join(10)
    finally:
        os.kill(kafka, signal.SIGCONT)
    assert not [r for r in reqs if first.get(r[1]) not in (0, 503)], first
    if not standby:
        r = stack.run("up", check=False, env={"ONECARD_SERVICES": "gateway"})
        assert r.returncode == 0, r.stdout + r.stderr
    port = proc[1] if standby else stack.gateway_port
    finals = {}

    def until_final(req):
        t = Terminal(port, led["terminal"], "secret-l")
        while time.monotonic() < t_kill + 120:
            try:
                st, doc = send(t, *req)
            except (OSError, ValueError):
                st, doc = 0, None
            if st not in (0, 503):
                finals[req[1]] = (st, doc or {}, time.monotonic() - t_kill)
                return
            time.sleep(0.2)

    try:
        threads = [threading.Thread(target=until_final, args=(r,), daemon=True) for r in reqs]
        for th in threads:
            th.start()
        for th in threads:
            th.join(130)
        # the gateway that took over produced the events again: every rating
        # (nobody else can finish one); a swipe or reversal whose dead copy
        # reached the log once the broker resumed may have been made final
        # by the ledger first
        m = http_get("http://127.0.0.1:%d/metrics" % (proc[2] if standby else
                                                       stack.admin_port("gateway")))[1]
        assert 'onecard_gateway_pending_resumed_total{kind="rating"} 10' in m, m[-3000:]
    finally:
        if standby:
            proc[0].terminate()
            proc[0].wait(30)
            r = stack.run("up", check=False, env={"ONECARD_SERVICES": "gateway"})
            assert r.returncode == 0, r.stdout + r.stderr
    wait_for(lambda: ready(stack, "gateway"), 120, "the gateway ready")
    missing = [r for r in reqs if r[1] not in finals]
    assert not missing, "no final answer in 120 s: %s" % missing[:5]
    reversed_, rated = {}, set()
    for kind, rid, what in reqs:
        st, doc, _ = finals[rid]
        if kind == "reversal":
            assert st == 200 and doc["decision"] == "reversed", (kind, st, doc)
            reversed_[what] = approved[what][1]
        elif kind == "rating":
            assert st == 202, (kind, st, doc)
            rated.add(what)
        else:
            assert st == 200 and doc["decision"] == "approved", (kind, st, doc)
            approved[doc["swipe_id"]] = what
    fen = check_books(led, cards, approved, reversed_, rated)
    waits = [f[2] for f in finals.values()]
    IN_FLIGHT.append(("broker frozen, gateway killed: " + ("standby" if standby else "restart"),
                      10, 10, 10, len(waits), quantile(waits, 0.5), max(waits), fen))
