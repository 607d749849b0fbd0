"""The card gateway when a dependency goes away, against the real stack: the
broker stopped under a steady stream of signed swipes (no approval without
the broker's acknowledgement, and afterwards exactly as many events on
onecard.swipes.v1 as approvals seen by the terminals), and Redis stopped
(fail closed with 503, approve again once it is back). And when the gateway
itself is stopped with connections open: idle ones are closed at once, the
request in flight is still answered, nothing leaks.

Each test stops a component with `deploy/local/stack stop NAME` and starts
it again with `stack start NAME`; a fixture does that in any case and waits
for every service's /readyz, so the tests after these find the stack whole.
"""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest

from conftest import (BUILD, REPO, SERVICES, SPARE_ADMIN_PORTS, SPARE_GATEWAY_PORT, http_get, kcat,
                      port_open, wait_bindable)
from gateway_client import Terminal, dirload, new_card, signed_request

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
    r = stack.up_or_start("start", "kafka", "redis", "postgres", *SERVICES, timeout=300)
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
    answer is kept as (sent, answered, status, decision, card, request_id)."""

    def __init__(self, stack, fleet, pause=0.02):
        self.stack, self.fleet, self.pause = stack, fleet, pause
        self.answers, self.lock = [], threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t, c), daemon=True)
                        for t, c in zip(fleet["terminals"], fleet["cards"])]

    def run(self, terminal_id, card):
        t = Terminal(self.stack.gateway_port, terminal_id, "secret-" + terminal_id)
        while not self.stop.is_set():
            sent, request_id = time.monotonic(), uuid.uuid4().hex
            try:
                st, doc = t.swipe(card, AMOUNT, item="F-REHAB", request_id=request_id)
                decision = doc.get("decision") if st == 200 else None
            except (OSError, ValueError) as e:  # refused, reset, timed out
                st, decision = "error: %s" % e, None
            with self.lock:
                self.answers.append((sent, time.monotonic(), st, decision, card, request_id))
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


def retry_unavailable(stack, fleet, answers, timeout=60):
    """What a terminal does with a 503: the same swipe again, with the same
    request_id, until the answer is final. Returns the answers with each 503
    replaced by its final answer. A 503 can hide a swipe whose event may be in
    the log (its delivery report said "possibly persisted"): the gateway keeps
    producing that event and the retry then finds it approved."""
    terminal_of = dict(zip(fleet["cards"], fleet["terminals"]))
    out, deadline = [], time.monotonic() + timeout
    for a in answers:
        while a[2] == 503:
            assert time.monotonic() < deadline, "still 503 after %d s: %s" % (timeout, a)
            terminal_id = terminal_of[a[4]]
            t = Terminal(stack.gateway_port, terminal_id, "secret-" + terminal_id)
            st, doc = t.swipe(a[4], AMOUNT, item="F-REHAB", request_id=a[5])
            a = (a[0], time.monotonic(), st, doc.get("decision") if st == 200 else None) + a[4:]
            if st == 503:
                time.sleep(0.5)
        out.append(a)
    return out


def approved(a):
    return a[2] == 200 and a[3] == "approved"


def events_by_card(stack, cards):
    """Distinct SwipeAuthorized events (by ce_id) on onecard.swipes.v1 keyed
    by one of cards: an event produced again after a lost acknowledgement may
    be in the log twice, and consumers drop the second by its id."""
    out = subprocess.run([*kcat(), "-C", "-b", stack.brokers, "-t", "onecard.swipes.v1", "-e",
                          "-q", "-f", "%k\t%h\n"], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    ids = {card: set() for card in cards}
    for line in out.splitlines():
        key, _, headers = line.partition("\t")
        h = dict(kv.partition("=")[::2] for kv in headers.split(","))
        if key in ids and h.get("ce_type") == "onecard.v1.SwipeAuthorized":
            ids[key].add(h.get("ce_id"))
    return {card: len(v) for card, v in ids.items()}


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
        r = stack.up_or_start("start", "kafka", timeout=180)
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

    # every 503 retried as the contract says, then: exactly one event per
    # approval, card by card, and the balance moved by the approvals alone
    # (every hold of a 503 released, or its event produced and approved)
    n_503 = sum(1 for a in answers if a[2] == 503)
    answers = retry_unavailable(stack, fleet, answers)
    events = events_by_card(stack, fleet["cards"])
    for terminal_id, card in zip(fleet["terminals"], fleet["cards"]):
        n = sum(1 for a in answers if a[4] == card and approved(a))
        assert events[card] == n, "card %s: %d approvals, %d events" % (card, n, events[card])
        assert balance(stack, terminal_id, card) == before[card] - n * AMOUNT
    n_approved = sum(1 for a in answers if approved(a))
    print("broker outage: %d swipes, %d approved after retries, %d answered 503 (%d sent and "
          "answered while down), %d events" % (len(answers), n_approved, n_503, len(outage),
                                               sum(events.values())))
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
    r = stack.up_or_start("start", "redis", timeout=60)
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


def broker_processes(stack):
    """Every process of this stack's broker: the pid file's and any JVM
    whose command line names the stack's state folder (a broker restarted
    by an earlier test may be a child of the pid the file names)."""
    pids = set()
    try:
        with open(os.path.join(stack.state, "pids", "kafka.pid")) as f:
            pids.add(int(f.read().split()[0]))
    except (OSError, ValueError, IndexError):
        pass
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if "kafka.Kafka" in cmd and stack.state in cmd:
            pids.add(int(name))
    return sorted(p for p in pids if os.path.exists("/proc/%d" % p))


def killed_while_broker_frozen(stack, send, then, frozen=lambda: None):
    """Freezes the stack's broker (it takes the request and never answers:
    a stopped one is seen at once and the gateway answers 503 up front),
    sends one request with send() in a thread, kills the gateway -9 0.7 s
    later (applied in Redis, waiting for the broker's report), calls
    frozen() while the broker is still frozen, then signals the broker with
    then (SIGKILL: what the dead gateway sent is never read; SIGCONT: it
    may reach the log). Returns the terminal's first answer."""
    kafka_pids = broker_processes(stack)
    assert kafka_pids, "no broker process of this stack found"
    for pid in kafka_pids:
        os.kill(pid, signal.SIGSTOP)
    first = {}

    def once():
        try:
            first["answer"] = send()
        except (OSError, ValueError) as e:
            first["answer"] = ("error", str(e))

    th = threading.Thread(target=once, daemon=True)
    th.start()
    try:
        time.sleep(0.7)
        with open(os.path.join(stack.state, "pids", "gateway.pid")) as f:
            os.kill(int(f.read().split()[0]), signal.SIGKILL)
        th.join(10)
        frozen()
    finally:
        for pid in kafka_pids:
            os.kill(pid, then)
    return first["answer"]


@pytest.mark.parametrize("kind", ["swipe", "reversal", "rating"])
def test_request_left_pending_by_a_killed_gateway_is_finished(stack, fleet, restore, kind):
    """The gateway dies between its script (swipe.lua, reverse.lua, rate.lua:
    Redis changed) and the broker's report, and what it sent never reaches
    the log: the next gateway finds the request in the dead gateway's
    in-flight set, produces the event, and the terminal's retry with the
    same request_id hears the real answer. One event, one effect."""
    terminal_id, card = fleet["terminals"][1], fleet["cards"][1]
    t = Terminal(stack.gateway_port, terminal_id, "secret-" + terminal_id)
    swipe_id = None
    if kind != "swipe":  # the swipe the request is about, approved before the fault
        st, doc = t.swipe(card, AMOUNT, item="F-REHAB")
        assert st == 200 and doc["decision"] == "approved", (st, doc)
        swipe_id = doc["swipe_id"]
    before = balance(stack, terminal_id, card)
    request_id = uuid.uuid4().hex

    def send(term):
        if kind == "swipe":
            return term.swipe(card, AMOUNT, item="F-REHAB", request_id=request_id)
        if kind == "reversal":
            return term.reverse(swipe_id, request_id)
        return term.rate(swipe_id, 5, request_id)

    # the request the dead gateway sent must never be read: the broker dies
    # frozen, and its restart does not find it
    first = killed_while_broker_frozen(stack, lambda: send(t), signal.SIGKILL)
    assert first[0] not in (200, 202), first  # the terminal never heard the answer
    r = stack.up_or_start("start", "kafka", timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr

    r = stack.run("up", check=False, env={"ONECARD_SERVICES": "gateway"})
    assert r.returncode == 0, r.stdout + r.stderr
    wait_ready(stack, ["gateway"])
    t = Terminal(stack.gateway_port, terminal_id, "secret-" + terminal_id)
    deadline = time.time() + 60
    while True:
        st, doc = send(t)
        if st != 503 or time.time() > deadline:
            break
        time.sleep(0.5)
    want = {"swipe": before - AMOUNT, "reversal": before + AMOUNT, "rating": before}[kind]
    if kind == "rating":
        assert st == 202, (st, doc)
    else:
        assert st == 200 and doc["decision"] == ("approved" if kind == "swipe" else "reversed"), (
            st, doc)
        swipe_id = doc["swipe_id"]
    assert balance(stack, terminal_id, card) == want
    m = http_get("http://127.0.0.1:%d/metrics" % stack.admin_port("gateway"))[1]
    assert 'onecard_gateway_pending_resumed_total{kind="%s"} 1' % kind in m, m[-3000:]
    # one event in the log, one effect (the dead gateway's copy may have
    # reached the log too: every consumer drops the second by its event id)
    sql = {"swipe": "SELECT count(*) FROM ledger_entries WHERE kind = 'swipe' AND swipe_id = '%s'",
           "reversal": "SELECT count(*) FROM ledger_entries WHERE kind = 'reversal' AND "
                       "swipe_id = '%s'",
           "rating": "SELECT count(*) FROM (SELECT swipe_id FROM rating_accepted UNION ALL "
                     "SELECT swipe_id FROM rating_rejected) r WHERE swipe_id = '%s'"}[kind] % swipe_id
    deadline = time.time() + 60
    while stack.psql(sql) != "1" and time.time() < deadline:
        time.sleep(0.5)
    assert stack.psql(sql) == "1"


def test_reversal_answer_left_pending_is_made_final_by_the_ledger(stack, fleet, restore):
    """The gateway dies after its reversal event left for the broker and
    before the broker's report; no gateway comes back. The ledger posts the
    reversal and its relay alone makes the stored answer final (posted.lua,
    under the key keys_reversal_idem gives both sides) and marks the
    swipe record's reversal done."""
    terminal_id, card = fleet["terminals"][2], fleet["cards"][2]
    t = Terminal(stack.gateway_port, terminal_id, "secret-" + terminal_id)
    st, doc = t.swipe(card, AMOUNT, item="F-REHAB")
    assert st == 200 and doc["decision"] == "approved", (st, doc)
    swipe_id, request_id = doc["swipe_id"], uuid.uuid4().hex
    idem = "idem:{c:%s}:rv:%s:%s" % (swipe_id[:8], terminal_id, request_id)
    record = "swipe:{c:%s}:%s" % (swipe_id[:8], swipe_id)

    def rcli(*args):
        return subprocess.run(["redis-cli", "-p", str(stack.redis_port)] + list(args),
                              capture_output=True, text=True, check=True).stdout.strip()

    def pending():  # as the dead gateway left it
        assert "\tP\t" in rcli("GET", idem), rcli("GET", idem)
        assert rcli("HGET", record, "rv_state") == "pending"

    first = killed_while_broker_frozen(stack, lambda: t.reverse(swipe_id, request_id),
                                       signal.SIGCONT, pending)
    assert first[0] not in (200, 202), first
    sql = ("SELECT count(*) FROM ledger_entries WHERE kind = 'reversal' AND swipe_id = '%s'"
           % swipe_id)
    deadline = time.time() + 45
    while stack.psql(sql) != "1" and time.time() < deadline:
        time.sleep(0.5)
    if stack.psql(sql) != "1":
        pytest.skip("the dead gateway's produce request never reached the log")
    deadline = time.time() + 30
    while "\tF\t" not in rcli("GET", idem) and time.time() < deadline:
        time.sleep(0.3)
    assert "\tF\treversed\t" in rcli("GET", idem), rcli("GET", idem)
    assert rcli("HGET", record, "rv_state") == "done"


def gateway_binary():
    """The ASan build's gateway when there is one (./onecard test builds it
    before the e2e tests), so LeakSanitizer checks the shutdown; else
    ONECARD_BUILD's."""
    asan = os.environ.get("ONECARD_ASAN_BUILD", os.path.join(REPO, "build-asan"))
    path = os.path.join(asan, "bin", "onecard-gateway")
    return path if os.access(path, os.X_OK) else os.path.join(BUILD, "bin", "onecard-gateway")


def read_until_closed(sock, timeout):
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_sigterm_closes_idle_connections_and_answers_in_flight(stack, fleet):
    terminal_id, card = fleet["terminals"][0], fleet["cards"][0]
    secret = "secret-" + terminal_id
    admin, port = SPARE_ADMIN_PORTS[2], SPARE_GATEWAY_PORT
    env = dict(stack.env, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port), ONECARD_HTTP_PORT=str(port),
               ONECARD_ADMIN_PORT=str(admin), ONECARD_DRAIN_MS="10000",
               ASAN_OPTIONS="detect_leaks=1")
    assert not wait_bindable([admin, port]), "ports %d, %d stay taken" % (admin, port)
    p = subprocess.Popen([gateway_binary()], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and http_get("http://127.0.0.1:%d/readyz" % admin)[0] != 200:
            time.sleep(0.1)
        assert http_get("http://127.0.0.1:%d/readyz" % admin)[0] == 200

        def inquiry():
            return signed_request(terminal_id, secret, "/v1/balance-inquiries",
                                  {"request_id": uuid.uuid4().hex, "card_no": card,
                                   "pin": "123456"})

        # an idle keep-alive connection after one answer, and one never used
        used = socket.create_connection(("127.0.0.1", port), timeout=10)
        used.sendall(inquiry())
        assert used.recv(65536).startswith(b"HTTP/1.1 200 "), "first inquiry"
        fresh = socket.create_connection(("127.0.0.1", port), timeout=10)
        # a request in flight: Redis holds every command for 2 s
        subprocess.run(["redis-cli", "-p", str(stack.redis_port), "CLIENT", "PAUSE", "2000",
                        "ALL"], check=True, capture_output=True, timeout=10)
        busy = socket.create_connection(("127.0.0.1", port), timeout=10)
        busy.sendall(inquiry())
        time.sleep(0.3)

        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        for s in (used, fresh):
            assert read_until_closed(s, 1.0) == b""
        closed_s = time.monotonic() - t0
        assert not port_open(port), "the terminal port still accepts while draining"
        answer = read_until_closed(busy, 10)
        answered_s = time.monotonic() - t0
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), answer
        assert b"\r\nConnection: close" in head, head
        assert json.loads(body)["wallets"], body
        assert closed_s < answered_s, (closed_s, answered_s)
        rc = p.wait(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    log = p.stderr.read()
    assert rc == 0, log[-3000:]
    assert "Sanitizer" not in log, log[-3000:]
    events = [json.loads(l)["event"] for l in log.splitlines() if l.startswith("{")]
    assert "http_draining" in events and events[-1] == "process_down", events
