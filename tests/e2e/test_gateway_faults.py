"""The card gateway when a dependency goes away, against the real stack: the
broker stopped under a steady stream of signed swipes (no approval without
the broker's acknowledgement, and afterwards exactly as many events on
onecard.swipes.v1 as approvals seen by the terminals), and Redis stopped
(fail closed with 503, approve again once it is back).

Each test stops a component with `deploy/local/stack stop NAME` and starts
it again with `stack start NAME`; a fixture does that in any case and waits
for every service's /readyz, so the tests after these find the stack whole.
"""
import os
import subprocess
import threading
import time
import uuid

import pytest

from conftest import BUILD, SERVICES, http_get
from gateway_client import Terminal, dirload, new_card

os.environ.setdefault("ONECARD_BUILD", BUILD)

AMOUNT = 100
BALANCE = 10_000_000
TERMINALS = 4  # one load thread each, well under the per-terminal budget


def wait_ready(stack, services=SERVICES, timeout=90):
    """Waits until every service's /readyz answers 200; fails after timeout."""
    deadline = time.time() + timeout
    left = list(services)
    while left and time.time() < deadline:
        left = [s for s in left
                if http_get("http://127.0.0.1:%d/readyz" % stack.admin_port(s), 2)[0] != 200]
        if left:
            time.sleep(0.2)
    assert not left, "not ready %d s after the fault: %s" % (timeout, left)


@pytest.fixture
def restore(stack):
    """Starts whatever a test stopped, then waits for the stack to be ready."""
    yield
    r = stack.run("start", "kafka", "redis", "postgres", *SERVICES, check=False, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    wait_ready(stack)


@pytest.fixture(scope="module")
def fleet(stack):
    """A provider, its terminals and one card per terminal, all new."""
    run = uuid.uuid4().hex[:6]
    provider = "PF" + run
    ids = ["TF%s%d" % (run, i) for i in range(TERMINALS)]
    cards = [new_card() for _ in ids]
    lines = ["item F-REHAB rehab 50000 0 0 rehabilitation",
             "provider %s active rehabilitation F-REHAB" % provider]
    lines += ["terminal %s %s secret-%s active" % (t, provider, t) for t in ids]
    for card in cards:
        lines += ["card %s person-%s active 123456" % (card, card[-6:]),
                  "entitlement %s F-REHAB 0 0 central-2026" % card,
                  "wallet %s rehab %d" % (card, BALANCE)]
    dirload(stack, lines)
    time.sleep(2.5)  # the gateway's directory refresh (1 s)
    return {"terminals": ids, "cards": cards}


def balance(stack, terminal_id, card):
    st, doc = Terminal(stack.gateway_port, terminal_id, "secret-" + terminal_id).balance(card)
    assert st == 200, doc
    return doc["wallets"][0]["balance_fen"]


class Load:
    """Steady signed swipes, one thread per terminal on its own card: every
    answer is kept as (sent, answered, status, decision, card)."""

    def __init__(self, stack, fleet, pause=0.02):
        self.stack, self.fleet, self.pause = stack, fleet, pause
        self.answers, self.lock = [], threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t, c), daemon=True)
                        for t, c in zip(fleet["terminals"], fleet["cards"])]

    def run(self, terminal_id, card):
        t = Terminal(self.stack.gateway_port, terminal_id, "secret-" + terminal_id)
        while not self.stop.is_set():
            sent = time.monotonic()
            try:
                st, doc = t.swipe(card, AMOUNT, item="F-REHAB")
                decision = doc.get("decision") if st == 200 else None
            except (OSError, ValueError) as e:  # refused, reset, timed out
                st, decision = "error: %s" % e, None
            with self.lock:
                self.answers.append((sent, time.monotonic(), st, decision, card))
            time.sleep(self.pause)

    def __enter__(self):
        for th in self.threads:
            th.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for th in self.threads:
            th.join(30)

    def snapshot(self):
        with self.lock:
            return list(self.answers)

    def wait_for(self, pred, timeout, after):
        """Waits until an answer sent after `after` satisfies pred."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(a[0] > after and pred(a) for a in self.snapshot()):
                return True
            time.sleep(0.1)
        return False


def approved(a):
    return a[2] == 200 and a[3] == "approved"


def events_by_card(stack, cards):
    """SwipeAuthorized events on onecard.swipes.v1 keyed by one of cards."""
    out = subprocess.run(["kcat", "-C", "-b", stack.brokers, "-t", "onecard.swipes.v1", "-e",
                          "-q", "-f", "%k\t%h\n"], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    counts = dict.fromkeys(cards, 0)
    for line in out.splitlines():
        key, _, headers = line.partition("\t")
        if key in counts and "ce_type=onecard.v1.SwipeAuthorized" in headers:
            counts[key] += 1
    return counts


def test_broker_stopped_mid_load(stack, fleet, restore):
    before = {c: balance(stack, t, c) for t, c in zip(fleet["terminals"], fleet["cards"])}
    with Load(stack, fleet) as load:
        t_start = time.monotonic()
        assert load.wait_for(approved, 20, t_start), load.snapshot()[-5:]
        time.sleep(2)

        r = stack.run("stop", "kafka", timeout=120)
        t_down = time.monotonic()  # the broker process is gone from here on
        assert "stopped" in r.stdout, r.stdout + r.stderr
        # a 503 for a swipe sent while the broker is down
        assert load.wait_for(lambda a: a[2] == 503, 30, t_down), load.snapshot()[-5:]
        time.sleep(3)  # longer than the gateway's ack timeout (2 s)
        t_restart = time.monotonic()
        r = stack.run("start", "kafka", timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr

        assert load.wait_for(approved, 60, time.monotonic()), load.snapshot()[-5:]
        time.sleep(2)
    answers = load.snapshot()

    outage = [a for a in answers if a[0] > t_down and a[1] < t_restart]
    assert outage, "no swipe was answered while the broker was down"
    assert not [a for a in outage if approved(a)], "approved while the broker was down"
    assert all(a[2] == 503 for a in outage), sorted({str(a[2]) for a in outage})
    unexpected = [a for a in answers if a[2] not in (200, 503)]
    assert not unexpected, unexpected[:5]

    # exactly one event per approval, none for a 503, card by card; and the
    # balance moved by the approvals alone (every hold of a 503 released)
    events = events_by_card(stack, fleet["cards"])
    for terminal_id, card in zip(fleet["terminals"], fleet["cards"]):
        n = sum(1 for a in answers if a[4] == card and approved(a))
        assert events[card] == n, "card %s: %d approvals, %d events" % (card, n, events[card])
        assert balance(stack, terminal_id, card) == before[card] - n * AMOUNT
    n_approved = sum(1 for a in answers if approved(a))
    n_503 = sum(1 for a in answers if a[2] == 503)
    print("broker outage: %d swipes, %d approved, %d answered 503 (%d sent and answered while "
          "down), %d events" % (len(answers), n_approved, n_503, len(outage), sum(events.values())))
    assert n_approved > 0 and n_503 > 0


def test_redis_down_fails_closed(stack, fleet, restore):
    terminal_id, card = fleet["terminals"][0], fleet["cards"][0]
    before = balance(stack, terminal_id, card)
    t = Terminal(stack.gateway_port, terminal_id, "secret-" + terminal_id)
    st, doc = t.swipe(card, AMOUNT, item="F-REHAB")
    assert st == 200 and doc["decision"] == "approved", doc

    r = stack.run("stop", "redis", timeout=60)
    assert "stopped" in r.stdout, r.stdout + r.stderr
    for _ in range(5):
        st, doc = t.swipe(card, AMOUNT, item="F-REHAB")
        assert st == 503 and doc["error"]["code"] == "unavailable", (st, doc)
    r = stack.run("start", "redis", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    wait_ready(stack, ["gateway"])

    deadline = time.time() + 30
    while True:
        st, doc = t.swipe(card, AMOUNT, item="F-REHAB")
        if st == 200 or time.time() > deadline:
            break
        time.sleep(0.5)
    assert st == 200 and doc["decision"] == "approved", (st, doc)
    assert balance(stack, terminal_id, card) == before - 2 * AMOUNT

